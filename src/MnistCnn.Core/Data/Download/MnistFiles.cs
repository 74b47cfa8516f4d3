namespace MnistCnn.Core.Data.Download;

/// <summary>The files of each data set and their hashes: the only place these values live.</summary>
/// <remarks>
/// MD5 values are of the <c>.gz</c> files, as each data set publishes them and torchvision checks them.
/// SHA-256 values are of the decompressed IDX files and are pinned only where they were computed from the
/// real files (MNIST, Fashion-MNIST); KMNIST has none (see <see cref="MnistDatasetInfo.HasPinnedSha256"/>).
/// All three data sets have the same file names and lengths (60,000 and 10,000 images of 28x28).
/// <c>eng/data.sh</c> reads the SHA-256 values from this file as text: keep each entry's name, MD5 and SHA-256
/// on the line that starts <c>new(</c>.
/// </remarks>
internal static class MnistFiles
{
    private const long TrainImagesLength = 47_040_016;
    private const long TrainLabelsLength = 60_008;
    private const long TestImagesLength = 7_840_016;
    private const long TestLabelsLength = 10_008;

    public static IReadOnlyList<MnistFile> Mnist { get; } =
    [
        new("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            TrainImagesLength),
        new("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            TrainLabelsLength),
        new("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", TestImagesLength),
        new("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", TestLabelsLength),
    ];

    /// <summary>
    /// Fashion-MNIST: MD5 values from Zalando's README (and torchvision); SHA-256 values computed from Zalando's
    /// files (the <c>.gz</c> files that match those MD5s, as rebuilt from Debian's <c>dataset-fashion-mnist</c>).
    /// </summary>
    public static IReadOnlyList<MnistFile> FashionMnist { get; } =
    [
        new("train-images-idx3-ubyte", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            TrainImagesLength),
        new("train-labels-idx1-ubyte", "25c81989df183df01b3e8a0aad5dffbe", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            TrainLabelsLength),
        new("t10k-images-idx3-ubyte", "bef4ecab320f06d8554ea6380940ec79", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", TestImagesLength),
        new("t10k-labels-idx1-ubyte", "bb300cfdad3c16e7a12a480ee83cd310", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", TestLabelsLength),
    ];

    /// <summary>Kuzushiji-MNIST: MD5 values as torchvision checks them; no SHA-256 pinned.</summary>
    public static IReadOnlyList<MnistFile> Kmnist { get; } =
    [
        new("train-images-idx3-ubyte", "bdb82020997e1d708af4cf47b453dcf7", null, TrainImagesLength),
        new("train-labels-idx1-ubyte", "e144d726b3acfaa3e44228e80efcd344", null, TrainLabelsLength),
        new("t10k-images-idx3-ubyte", "5c965bf0a639b31b8f53240b1b52f4d7", null, TestImagesLength),
        new("t10k-labels-idx1-ubyte", "7320c461ea6c1c855c0b718fb2a4b134", null, TestLabelsLength),
    ];
}
