using MnistCnn.Core.Data.Download;
using System.IO.Compression;
using System.Security.Cryptography;
using MnistCnn.Core.Data;

namespace MnistCnn.Core.Tests.Data.Download;

/// <summary>
/// Four small random files under the real MNIST names, with their gzip form and the hash table the
/// downloader must check them against (the real MNIST hashes cannot be met by synthetic data).
/// </summary>
internal sealed class SyntheticMnist
{
    public SyntheticMnist(int bytesPerFile = 4096)
    {
        var random = new Random(1234);
        var table = new List<MnistFile>();
        foreach (var name in MnistDownloader.FileNames)
        {
            var plain = new byte[bytesPerFile];
            random.NextBytes(plain);
            var gzip = Compress(plain);
            Plain[name] = plain;
            Gzip[name] = gzip;
            table.Add(new MnistFile(name, Hex(HashAlgorithmName.MD5, gzip), Hex(HashAlgorithmName.SHA256, plain), plain.Length));
        }

        Table = table;
    }

    public static IReadOnlyList<string> Names => MnistDownloader.FileNames;

    public Dictionary<string, byte[]> Plain { get; } = [];

    public Dictionary<string, byte[]> Gzip { get; } = [];

    public IReadOnlyList<MnistFile> Table { get; }

    /// <summary>MNIST with the synthetic files' hashes in place of the real ones.</summary>
    public MnistDatasetInfo Dataset => MnistDatasetInfo.Mnist.WithFiles(Table);

    /// <summary>
    /// <paramref name="dataset"/> with the synthetic files' MD5 values and, like Fashion-MNIST and KMNIST,
    /// no pinned SHA-256.
    /// </summary>
    public MnistDatasetInfo WithoutPinnedSha256(MnistDatasetInfo dataset) =>
        dataset.WithFiles([.. Table.Select(f => f with { Sha256 = null })]);

    /// <summary>Bytes that look like the .gz (same length) but are not.</summary>
    public byte[] CorruptGzip(string name)
    {
        var bytes = (byte[])Gzip[name].Clone();
        bytes[bytes.Length / 2] ^= 0xFF;
        return bytes;
    }

    public void ServeAll(LocalHttpServer server)
    {
        foreach (var name in Names)
        {
            server.Serve(name + ".gz", new Reply.Ok(Gzip[name]));
        }
    }

    public void WriteGzipFiles(string folder)
    {
        foreach (var name in Names)
        {
            File.WriteAllBytes(Path.Combine(folder, name + ".gz"), Gzip[name]);
        }
    }

    public void WritePlainFiles(string folder)
    {
        foreach (var name in Names)
        {
            File.WriteAllBytes(Path.Combine(folder, name), Plain[name]);
        }
    }

    private static string Hex(HashAlgorithmName algorithm, byte[] bytes)
    {
        using var hash = IncrementalHash.CreateHash(algorithm);
        hash.AppendData(bytes);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static byte[] Compress(byte[] plain)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(plain);
        }

        return output.ToArray();
    }
}
