using MnistCnn.Core.Data.Idx;
using MnistCnn.Core.Runtime;

namespace MnistCnn.Core.Data;

/// <summary>
/// Loads a split of MNIST, or of any dataset in MNIST's format (Fashion-MNIST, KMNIST), from its IDX files
/// into a <see cref="DigitDataset"/>.
/// </summary>
/// <remarks>
/// <para>
/// The files have MNIST's standard names (<c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>,
/// <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>), each plain or gzip-compressed, with or
/// without a <c>.gz</c> suffix. They are looked for in the folder itself, then in <c>MNIST/raw</c> below it
/// (torchvision's layout: pass torchvision's <c>root</c>), then in <c>raw</c> below it (pass e.g.
/// torchvision's <c>root/FashionMNIST</c>). Within a folder the plain file is preferred to the
/// <c>.gz</c> one; each file is taken from the first folder that has it.
/// </para>
/// <para>See <see cref="IdxFile"/> for how the files are read and validated.</para>
/// </remarks>
/// <example>
/// <code>
/// using var train = MnistDataset.Load("data/mnist", MnistSplit.Train);
/// using var fashion = MnistDataset.Load("data/fashion", MnistSplit.Test, DigitDatasetOptions.FashionMnist);
/// </code>
/// </example>
public static class MnistDataset
{
    /// <summary>The sub-folders searched below the given folder, after the folder itself.</summary>
    private static readonly string[] SearchedSubfolders = [Path.Combine("MNIST", "raw"), "raw"];

    /// <summary>Loads a split from the IDX files in <paramref name="folder"/> (or its torchvision layout).</summary>
    /// <param name="folder">The folder holding the files, or a parent of <c>MNIST/raw</c> or <c>raw</c> holding them.</param>
    /// <param name="split">The split to load.</param>
    /// <param name="options">Classes and normalisation; <see langword="null"/> for <see cref="DigitDatasetOptions.Default"/> (10 digits).</param>
    /// <returns>The split in memory; the caller owns and disposes it.</returns>
    /// <exception cref="ArgumentException"><paramref name="folder"/> is null or empty, or <paramref name="options"/> is inconsistent.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="split"/> is not a defined value.</exception>
    /// <exception cref="DirectoryNotFoundException"><paramref name="folder"/> does not exist.</exception>
    /// <exception cref="FileNotFoundException">A file was not found; the message lists every name and folder searched.</exception>
    /// <exception cref="IdxFormatException">
    /// A file is malformed, the image and label counts differ, or a label is not below the class count.
    /// </exception>
    /// <exception cref="UnauthorizedAccessException">A file cannot be read; passed through, naming the path.</exception>
    /// <exception cref="TorchBackendException">libtorch cannot be loaded in this process (no backend package, a C++
    /// runtime older than GCC 13's, ...); the message names the cause and the fix.</exception>
    public static DigitDataset Load(string folder, MnistSplit split, DigitDatasetOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var prefix = split switch
        {
            MnistSplit.Train => "train",
            MnistSplit.Test => "t10k",
            _ => throw new ArgumentOutOfRangeException(nameof(split), split, "Unknown split."),
        };
        options ??= DigitDatasetOptions.Default;
        TorchRuntime.EnsureAvailable();

        var root = Path.GetFullPath(folder);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"The MNIST folder '{root}' does not exist.");
        }

        var (imagesPath, labelsPath) = Locate(root, split, $"{prefix}-images-idx3-ubyte", $"{prefix}-labels-idx1-ubyte");

        // Labels first: a small file, so most mistakes surface before the large read.
        var labels = IdxFile.ReadLabels(labelsPath);
        var images = IdxFile.ReadImages(imagesPath);
        if (labels.Length != images.Count)
        {
            throw new IdxFormatException(labelsPath, IdxFormatError.CountMismatch,
                $"holds {labels.Length} labels but '{imagesPath}' holds {images.Count} images; the counts must agree.");
        }

        if (options.ClassCount < 256)
        {
            var bad = labels.AsSpan().IndexOfAnyInRange((byte)options.ClassCount, byte.MaxValue);
            if (bad >= 0)
            {
                throw new IdxFormatException(labelsPath, IdxFormatError.LabelOutOfRange,
                    $"label {labels[bad]} at index {bad} is not below the class count {options.ClassCount}.");
            }
        }

        // The arrays were just read and are held by no one else: the dataset adopts them rather than copying.
        return new DigitDataset(images.Pixels, labels, images.Height, images.Width, options, adoptPixels: true) { IsTestSplit = split == MnistSplit.Test };
    }

    private static (string Images, string Labels) Locate(string root, MnistSplit split, string imagesName, string labelsName)
    {
        string[] folders = [root, .. SearchedSubfolders.Select(s => Path.Combine(root, s))];
        var images = Find(folders, imagesName);
        var labels = Find(folders, labelsName);
        if (images is not null && labels is not null)
        {
            return (images, labels);
        }

        var missing = new List<string>(2);
        if (images is null)
        {
            missing.Add(imagesName);
        }

        if (labels is null)
        {
            missing.Add(labelsName);
        }

        var names = string.Join(", ", missing.SelectMany(n => new[] { n, n + ".gz" }));
        throw new FileNotFoundException(
            $"The {split} split is incomplete: found no {string.Join(" or ", missing)}. Looked for {names} in {string.Join(", ", folders)}.",
            Path.Combine(root, missing[0]));
    }

    private static string? Find(string[] folders, string name)
    {
        foreach (var folder in folders)
        {
            foreach (var candidate in new[] { Path.Combine(folder, name), Path.Combine(folder, name + ".gz") })
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
