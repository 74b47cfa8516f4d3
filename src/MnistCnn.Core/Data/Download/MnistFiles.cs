namespace MnistCnn.Core.Data.Download;

/// <summary>The four MNIST files and their hashes: the only place these values live.</summary>
internal static class MnistFiles
{
    /// <summary>
    /// MD5 values are those torchvision checks on the <c>.gz</c> files; SHA-256 values are of the
    /// decompressed IDX files, whose lengths follow.
    /// </summary>
    public static IReadOnlyList<MnistFile> All { get; } =
    [
        new("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 47_040_016),
        new("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 60_008),
        new("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 7_840_016),
        new("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 10_008),
    ];
}
