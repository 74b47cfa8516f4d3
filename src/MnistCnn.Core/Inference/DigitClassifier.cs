using MnistCnn.Core.Diagnostics;
using MnistCnn.Core.Models;

namespace MnistCnn.Core.Inference;

/// <summary>
/// Classifies 28x28 MNIST-style digit images with the case-study network, in managed code: no TorchSharp
/// native backend is needed to predict, so it runs wherever .NET runs.
/// </summary>
/// <remarks>
/// <para>
/// A classifier is immutable after construction and safe to call from any number of threads at once: it
/// copies the weights into arrays it never changes, and each prediction works in its own stack space.
/// A prediction allocates only its result.
/// </para>
/// <para>
/// Images are given in MNIST's layout: 784 bytes, row-major, 0 = background, 255 = ink (white digit on
/// black). The network sees each pixel as <c>p / 255</c>, as in training.
/// </para>
/// </remarks>
public sealed partial class DigitClassifier
{
    /// <summary>The number of pixels of one image: 28 x 28.</summary>
    public const int PixelCount = ConvNet.ImageSize * ConvNet.ImageSize;

    // Large batches are cut into chunks of this many images, the unit of parallel work.
    private const int ChunkSize = 64;

    // A ConvNet weights file takes about 139 KB; anything far larger is refused before it is read.
    private const long MaxFileBytes = 16 * 1024 * 1024;

    /// <summary>The manifest name of the embedded pretrained model (src/MnistCnn.Core/Inference/Pretrained/convnet.safetensors).</summary>
    internal const string PretrainedResource = "MnistCnn.Core.Inference.Pretrained.convnet.safetensors";

    private static readonly Lazy<DigitClassifier> PretrainedInstance = new(LoadPretrained, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly ConvNetWeights _weights;

    private DigitClassifier(ConvNetWeights weights, IReadOnlyDictionary<string, string> metadata)
    {
        _weights = weights;
        Metadata = metadata;
    }

    /// <summary>
    /// Gets the strings of the weights file's safetensors <c>__metadata__</c> (for <see cref="Pretrained"/>:
    /// its training settings, the SHA-256 of the MNIST files and its test accuracy); empty for a
    /// classifier made by <see cref="FromModel"/>.
    /// </summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Gets the weights the classifier computes with (for tests that compare them with a file).</summary>
    internal ConvNetWeights Weights => _weights;

    /// <summary>
    /// Gets the classifier of the model shipped in this package: the case-study network trained on MNIST
    /// by this repository's training command (seed 0, 5 epochs, batch 64, Adam with learning rate 0.01,
    /// no shuffling). <see cref="Metadata"/> records those settings, the SHA-256 of the four MNIST files and
    /// the model's test accuracy (<c>test_accuracy</c>, in percent), which the package README states.
    /// </summary>
    /// <returns>The same instance on every call (it is immutable and thread-safe).</returns>
    public static DigitClassifier Pretrained() => PretrainedInstance.Value;

    /// <summary>
    /// Creates a classifier from a safetensors weights file of the case-study ConvNet (written by
    /// <see cref="ModelWeights.Save"/>, by the training sample, or by PyTorch with the same parameter
    /// names). The file is read with managed code only.
    /// </summary>
    /// <param name="path">The weights file.</param>
    /// <returns>A classifier over a copy of the file's weights.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFileException">
    /// The file is not a valid safetensors file (truncated, malformed or hostile header, holes or trailing
    /// bytes, NaN or infinite weights), is larger than 16 MB, or holds weights of another architecture.
    /// The message names the file and the reason.
    /// </exception>
    public static DigitClassifier Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"The weights file '{path}' does not exist.", path);
        }

        if (info.Length > MaxFileBytes)
        {
            throw new ModelFileException(path, $"is {info.Length} bytes; the case-study ConvNet's weights take about 139 KB, so it holds another model or is not a weights file.");
        }

        return FromBytes(File.ReadAllBytes(path), path);
    }

    /// <summary>Creates a classifier over a copy of a trained <see cref="ConvNet"/>'s current weights (this needs torch).</summary>
    /// <param name="model">The model, on any device; it is not changed, and later changes to it do not affect the classifier.</param>
    /// <returns>A classifier that gives the model's answers.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException">A weight of the model is NaN or infinite.</exception>
    public static DigitClassifier FromModel(ConvNet model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new DigitClassifier(ConvNetWeights.FromModel(model), new Dictionary<string, string>());
    }

    /// <summary>Classifies one image.</summary>
    /// <param name="mnistPixels">784 bytes, row-major 28x28, 0 = background, 255 = ink.</param>
    /// <returns>The prediction.</returns>
    /// <exception cref="ArgumentException"><paramref name="mnistPixels"/> does not hold exactly 784 bytes.</exception>
    public DigitPrediction Predict(ReadOnlySpan<byte> mnistPixels)
    {
        if (mnistPixels.Length != PixelCount)
        {
            throw new ArgumentException($"An MNIST image is {PixelCount} bytes (28x28); got {mnistPixels.Length}.", nameof(mnistPixels));
        }

        var call = Telemetry.PredictStarting("predict");
        var prediction = PredictPixels(mnistPixels);
        Telemetry.PredictCompleted(call, "predict", 1);
        return prediction;
    }

    // One checked MNIST image, without telemetry (the public calls record themselves once).
    private DigitPrediction PredictPixels(ReadOnlySpan<byte> mnistPixels)
    {
        Span<float> input = stackalloc float[ConvNetForward.InputLength];
        ConvNetForward.LoadPixels(mnistPixels, input);
        return PredictPadded(input);
    }

    /// <summary>
    /// Classifies many images, in parallel over the machine's cores when there are more than 64.
    /// </summary>
    /// <param name="mnistPixels">The images one after another: exactly <paramref name="count"/> x 784 bytes, each as for <see cref="Predict"/>.</param>
    /// <param name="count">The number of images; at least 1.</param>
    /// <param name="maxDegreeOfParallelism">
    /// The most threads to use; at least 1. Default (<see langword="null"/>): <see cref="Environment.ProcessorCount"/>.
    /// 1 classifies on the calling thread only.
    /// </param>
    /// <param name="cancellationToken">Checked before every chunk of 64 images.</param>
    /// <returns>The predictions, in the order of the images.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> or <paramref name="maxDegreeOfParallelism"/> is below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="mnistPixels"/> does not hold exactly <paramref name="count"/> x 784 bytes.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public IReadOnlyList<DigitPrediction> PredictBatch(
        ReadOnlyMemory<byte> mnistPixels, int count, int? maxDegreeOfParallelism = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (maxDegreeOfParallelism is { } limit)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1, nameof(maxDegreeOfParallelism));
        }

        if (mnistPixels.Length != (long)count * PixelCount)
        {
            throw new ArgumentException(
                $"{count} MNIST images are {(long)count * PixelCount} bytes ({count} x {PixelCount}); got {mnistPixels.Length}.", nameof(mnistPixels));
        }

        var call = Telemetry.PredictStarting("predict_batch");
        var results = new DigitPrediction[count];
        var chunks = (count + ChunkSize - 1) / ChunkSize;
        var threads = maxDegreeOfParallelism ?? Environment.ProcessorCount;
        if (threads == 1 || chunks == 1)
        {
            for (var chunk = 0; chunk < chunks; chunk++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                PredictChunk(mnistPixels.Span, chunk, results);
            }
        }
        else
        {
            var options = new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken };
            Parallel.For(0, chunks, options, chunk => PredictChunk(mnistPixels.Span, chunk, results));
        }

        Telemetry.PredictCompleted(call, "predict_batch", count);
        return results;
    }

    /// <summary>
    /// Classifies one prepared image: 784 floats, row-major 28x28, scaled as the network was trained
    /// (0 = background, 1 = full ink; <c>p / 255</c> for MNIST bytes).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="image"/> does not hold exactly 784 values.</exception>
    internal DigitPrediction PredictPrepared(ReadOnlySpan<float> image)
    {
        if (image.Length != PixelCount)
        {
            throw new ArgumentException($"A prepared image is {PixelCount} floats (28x28); got {image.Length}.", nameof(image));
        }

        Span<float> input = stackalloc float[ConvNetForward.InputLength];
        ConvNetForward.LoadImage(image, input);
        return PredictPadded(input);
    }

    /// <summary>The ten logits of one MNIST image (the network's raw outputs, before the softmax).</summary>
    internal void ComputeLogits(ReadOnlySpan<byte> mnistPixels, Span<float> logits)
    {
        if (mnistPixels.Length != PixelCount)
        {
            throw new ArgumentException($"An MNIST image is {PixelCount} bytes (28x28); got {mnistPixels.Length}.", nameof(mnistPixels));
        }

        Span<float> input = stackalloc float[ConvNetForward.InputLength];
        ConvNetForward.LoadPixels(mnistPixels, input);
        ConvNetForward.Logits(_weights, input, logits);
    }

    private static DigitClassifier LoadPretrained()
    {
        using var stream = typeof(DigitClassifier).Assembly.GetManifestResourceStream(PretrainedResource)
            ?? throw new InvalidOperationException($"The assembly {typeof(DigitClassifier).Assembly.GetName().Name} lacks its embedded resource {PretrainedResource}; it was built without the pretrained model.");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return FromBytes(bytes, $"embedded resource {PretrainedResource}");
    }

    internal static DigitClassifier FromBytes(byte[] bytes, string source)
    {
        var file = SafeTensorsFile.Parse(bytes, source);
        return new DigitClassifier(ConvNetWeights.FromFile(file), new Dictionary<string, string>(file.Metadata, StringComparer.Ordinal));
    }

    private void PredictChunk(ReadOnlySpan<byte> pixels, int chunk, DigitPrediction[] results)
    {
        var end = Math.Min(results.Length, (chunk + 1) * ChunkSize);
        Span<float> input = stackalloc float[ConvNetForward.InputLength];
        for (var i = chunk * ChunkSize; i < end; i++)
        {
            // Only the image area is rewritten; the zero padding stays zero.
            ConvNetForward.LoadPixels(pixels.Slice(i * PixelCount, PixelCount), input);
            results[i] = PredictPadded(input);
        }
    }

    private DigitPrediction PredictPadded(ReadOnlySpan<float> input)
    {
        Span<float> logits = stackalloc float[ConvNet.ClassCount];
        ConvNetForward.Logits(_weights, input, logits);

        // The digit is the first largest logit, as torch's argmax; the softmax is shifted by it so exp never overflows.
        var digit = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[digit])
            {
                digit = i;
            }
        }

        var probabilities = new float[ConvNet.ClassCount];
        var sum = 0f;
        for (var i = 0; i < logits.Length; i++)
        {
            probabilities[i] = MathF.Exp(logits[i] - logits[digit]);
            sum += probabilities[i];
        }

        for (var i = 0; i < probabilities.Length; i++)
        {
            probabilities[i] /= sum;
        }

        return new DigitPrediction(digit, probabilities, DigitLikeness.LooksLikeDigit(input, ConvNetForward.InputStride));
    }
}
