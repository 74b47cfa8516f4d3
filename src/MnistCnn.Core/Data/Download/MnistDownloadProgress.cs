namespace MnistCnn.Core.Data.Download;

/// <summary>Progress of fetching one file of MNIST, Fashion-MNIST or KMNIST, reported by <see cref="MnistDownloader"/>.</summary>
/// <param name="FileName">The standard file name being fetched, without <c>.gz</c> (e.g. <c>train-images-idx3-ubyte</c>).</param>
/// <param name="BytesReceived">Bytes read so far from the mirror (compressed bytes when the mirror serves <c>.gz</c>).</param>
/// <param name="TotalBytes">Size of what the mirror serves, when it is known (HTTP <c>Content-Length</c> or the local
/// file size); otherwise <see langword="null"/>.</param>
/// <param name="Mirror">The mirror as configured in <see cref="MnistDownloadOptions.Mirrors"/>, or the target folder for a hand-placed <c>.gz</c> file.</param>
public sealed record MnistDownloadProgress(string FileName, long BytesReceived, long? TotalBytes, string Mirror);
