namespace MnistCnn.Core.Data.Download;

/// <summary>
/// A data set in MNIST's format that <see cref="MnistDownloader"/> can fetch: its name, its canonical
/// mirrors, its classes and the checksums its files must match. The instances are fixed:
/// <see cref="Mnist"/>, <see cref="FashionMnist"/> and <see cref="Kmnist"/>.
/// </summary>
/// <remarks>
/// All three use the same four file names (<see cref="FileNames"/>) and sizes (60,000 training and 10,000
/// test images of 28x28 with their labels), so a folder holds one data set; keep each in its own folder
/// (<see cref="FolderName"/>).
/// </remarks>
/// <example>
/// <code>
/// var info = MnistDatasetInfo.FashionMnist;
/// await new MnistDownloader().DownloadAsync("data/fashion-mnist", info);
/// using var train = MnistDataset.Load("data/fashion-mnist", MnistSplit.Train, info.DatasetOptions);
/// </code>
/// </example>
public sealed class MnistDatasetInfo
{
    internal MnistDatasetInfo(
        string name,
        string folderName,
        IReadOnlyList<string> defaultMirrors,
        IReadOnlyList<string> classNames,
        DigitDatasetOptions datasetOptions,
        IReadOnlyList<MnistFile> files)
    {
        Name = name;
        FolderName = folderName;
        DefaultMirrors = [.. defaultMirrors];
        ClassNames = [.. classNames];
        DatasetOptions = datasetOptions;
        Files = files;
        FileNames = [.. files.Select(f => f.Name)];
        HasPinnedSha256 = files.All(f => f.Sha256 is not null);
    }

    /// <summary>
    /// Gets MNIST, the handwritten digits 0-9. Mirrors: torchvision's, in its order (see
    /// <see cref="MnistDownloadOptions.DefaultMirrors"/>). The <c>.gz</c> files must match the MD5 values
    /// torchvision checks, and the decompressed files their pinned SHA-256.
    /// </summary>
    public static MnistDatasetInfo Mnist { get; } = new(
        "MNIST",
        "mnist",
        MnistDownloadOptions.DefaultMirrors,
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
        DigitDatasetOptions.Default,
        MnistFiles.Mnist);

    /// <summary>
    /// Gets Fashion-MNIST (Zalando Research): photos of ten kinds of clothing, named "T-shirt/top",
    /// "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" (labels
    /// 0-9). Mirror: Zalando's own, <c>http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/</c>.
    /// The <c>.gz</c> files must match the MD5 values Zalando publishes, and the decompressed files their
    /// pinned SHA-256.
    /// </summary>
    public static MnistDatasetInfo FashionMnist { get; } = new(
        "Fashion-MNIST",
        "fashion-mnist",
        ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        DigitDatasetOptions.FashionMnist.ClassNames!,
        DigitDatasetOptions.FashionMnist,
        MnistFiles.FashionMnist);

    /// <summary>
    /// Gets Kuzushiji-MNIST (KMNIST, by CODH): ten cursive hiragana, one per row of the syllabary, named
    /// "o (お)", "ki (き)", "su (す)", "tsu (つ)", "na (な)", "ha (は)", "ma (ま)", "ya (や)", "re (れ)",
    /// "wo (を)" (labels 0-9, as in CODH's class map). Mirror: CODH's,
    /// <c>http://codh.rois.ac.jp/kmnist/dataset/kmnist/</c>. The <c>.gz</c> files must match the MD5
    /// values torchvision checks; no SHA-256 of the decompressed files is pinned.
    /// </summary>
    public static MnistDatasetInfo Kmnist { get; } = new(
        "KMNIST",
        "kmnist",
        ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"],
        ["o (お)", "ki (き)", "su (す)", "tsu (つ)", "na (な)", "ha (は)", "ma (ま)", "ya (や)", "re (れ)", "wo (を)"],
        DigitDatasetOptions.KMnist,
        MnistFiles.Kmnist);

    /// <summary>Gets the three data sets: <see cref="Mnist"/>, <see cref="FashionMnist"/>, <see cref="Kmnist"/>.</summary>
    public static IReadOnlyList<MnistDatasetInfo> All { get; } = [Mnist, FashionMnist, Kmnist];

    /// <summary>Gets the data set's name, as used in messages: <c>MNIST</c>, <c>Fashion-MNIST</c> or <c>KMNIST</c>.</summary>
    public string Name { get; }

    /// <summary>
    /// Gets the conventional folder name for the data set's files: <c>mnist</c>, <c>fashion-mnist</c> or
    /// <c>kmnist</c> (e.g. <c>data/fashion-mnist</c>).
    /// </summary>
    public string FolderName { get; }

    /// <summary>
    /// Gets the data set's canonical mirrors, tried in order when <see cref="MnistDownloadOptions.Mirrors"/>
    /// is <see langword="null"/>.
    /// </summary>
    public IReadOnlyList<string> DefaultMirrors { get; }

    /// <summary>
    /// Gets a display name per class, indexed by label. For KMNIST each name gives the romanisation and the
    /// modern hiragana, e.g. <c>o (お)</c>; <see cref="DatasetOptions"/> names the classes by the
    /// romanisation only, which any Latin font can draw.
    /// </summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>
    /// Gets the options to load the data set with <see cref="MnistDataset.Load"/>: ten classes with their
    /// names (<see cref="DigitDatasetOptions.Default"/>, <see cref="DigitDatasetOptions.FashionMnist"/> or
    /// <see cref="DigitDatasetOptions.KMnist"/>), no normalisation.
    /// </summary>
    public DigitDatasetOptions DatasetOptions { get; }

    /// <summary>
    /// Gets the names of the four files as stored on disk: <c>train-images-idx3-ubyte</c>,
    /// <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>.
    /// </summary>
    public IReadOnlyList<string> FileNames { get; }

    /// <summary>
    /// Gets a value indicating whether the SHA-256 of every decompressed file is pinned in the library
    /// (MNIST and Fashion-MNIST: yes; KMNIST: no).
    /// </summary>
    /// <remarks>
    /// Without a pinned SHA-256, <see cref="MnistDownloader"/> accepts a file only from a <c>.gz</c> that
    /// matches the published MD5 (never a decompressed file from a local mirror), and records the SHA-256 of
    /// what it decompressed in <c>&lt;name&gt;.sha256</c> beside the file (the format of <c>sha256sum</c>);
    /// later calls verify the stored file against that record. A file in the folder without its record is
    /// fetched again.
    /// </remarks>
    public bool HasPinnedSha256 { get; }

    /// <summary>Gets the files with their hashes.</summary>
    internal IReadOnlyList<MnistFile> Files { get; }

    /// <summary>Returns <see cref="Name"/>.</summary>
    /// <returns>The data set's name.</returns>
    public override string ToString() => Name;

    /// <summary>Creates a data set with another file table; tests use it to serve small synthetic files.</summary>
    internal MnistDatasetInfo WithFiles(IReadOnlyList<MnistFile> files) =>
        new(Name, FolderName, DefaultMirrors, ClassNames, DatasetOptions, files);
}
