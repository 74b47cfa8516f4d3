using MnistCnn.Core.Data;
using MnistCnn.Core.Diagnostics;
using MnistCnn.Core.Engine;
using MnistCnn.Core.Models;
using static TorchSharp.torch;

namespace MnistCnn.Core.Inference;

/// <summary>
/// Classifies 28x28 MNIST-style digit images with a trained network (<see cref="LeNet"/>, the case study's
/// <see cref="ConvNet"/> or <see cref="SpeedrunNet"/>), in managed code: no TorchSharp native backend is needed to predict, so it runs
/// wherever .NET runs.
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
    // The bytes of one image, published as DigitImage.PixelCount.
    private const int PixelCount = DigitImage.PixelCount;

    // Large batches are cut into chunks of this many images, the unit of parallel work.
    private const int ChunkSize = 64;

    /// <summary>The manifest name of the embedded case-study model (src/MnistCnn.Core/Inference/Pretrained/convnet.safetensors).</summary>
    internal const string CaseStudyResource = "MnistCnn.Core.Inference.Pretrained.convnet.safetensors";

    /// <summary>The manifest name of the embedded best model (src/MnistCnn.Core/Inference/Pretrained/lenet.safetensors).</summary>
    internal const string BestResource = "MnistCnn.Core.Inference.Pretrained.lenet.safetensors";

    private static readonly Lazy<DigitClassifier> CaseStudyInstance = new(() => LoadPretrained(CaseStudyResource),
        LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly Lazy<DigitClassifier> BestInstance = new(() => LoadPretrained(BestResource), LazyThreadSafetyMode.ExecutionAndPublication);

    // A thread's scaled images of one chunk.
    [ThreadStatic]
    private static float[]? _chunkImages;

    private readonly NetworkWeights _weights;
    private readonly Predictor _predictor;

    private DigitClassifier(NetworkWeights weights, IReadOnlyDictionary<string, string> metadata)
    {
        _weights = weights;
        _predictor = NetworkPasses.For(weights.Description).CreatePredictor(weights.View);
        Metadata = metadata;
    }

    /// <summary>Gets the name of the network's architecture: <c>LeNet</c>, <c>ConvNet</c> or <c>SpeedrunNet</c> (as weights files record it).</summary>
    public string Architecture => _weights.Description.Name;

    /// <summary>Gets the number of classes (logits) the network scores: 10.</summary>
    public int ClassCount => _weights.Description.Classes;

    /// <summary>
    /// Gets the strings of the weights file's safetensors <c>__metadata__</c> (for <see cref="Pretrained(PretrainedModel)"/>:
    /// the architecture, its training settings, the SHA-256 of the MNIST files and its test accuracy); for a
    /// classifier made by <see cref="FromModel"/>, only the architecture.
    /// </summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Gets the weights the classifier computes with (for tests that compare them with a file).</summary>
    internal NetworkWeights Weights => _weights;

    /// <summary>Gets the classifier of the best model shipped in this package (<see cref="PretrainedModel.Best"/>).</summary>
    /// <returns>The same instance on every call (it is immutable and thread-safe).</returns>
    public static DigitClassifier Pretrained() => Pretrained(PretrainedModel.Best);

    /// <summary>
    /// Gets the classifier of a model shipped in this package, trained on MNIST by this repository's
    /// <c>./build.sh pretrained</c>. <see cref="Metadata"/> records its architecture, its training settings, the
    /// SHA-256 of the four MNIST files and its test accuracy (<c>test_accuracy</c>, in percent), which the package
    /// README states.
    /// </summary>
    /// <param name="model">Which model: <see cref="PretrainedModel.Best"/> (LeNet) or <see cref="PretrainedModel.CaseStudy"/> (ConvNet).</param>
    /// <returns>The same instance on every call for the same model (it is immutable and thread-safe).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="model"/> is not a defined value.</exception>
    public static DigitClassifier Pretrained(PretrainedModel model) => model switch
    {
        PretrainedModel.Best => BestInstance.Value,
        PretrainedModel.CaseStudy => CaseStudyInstance.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, "Not a pretrained model of this package."),
    };

    /// <summary>
    /// Creates a classifier from a safetensors weights file of a <see cref="LeNet"/>, a <see cref="ConvNet"/> or a <see cref="SpeedrunNet"/>
    /// (written by <see cref="ModelWeights.Save"/>, <see cref="SaveWeights"/>, the training sample, or PyTorch with
    /// the same parameter names). The architecture is the one the file's <c>__metadata__</c> names
    /// (<c>architecture</c>); a file without it is taken for the architecture whose tensors it holds. The file is
    /// read with managed code only.
    /// </summary>
    /// <param name="path">The weights file.</param>
    /// <returns>A classifier over a copy of the file's weights.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFileException">
    /// The file is not a valid safetensors file (truncated, malformed or hostile header, holes or trailing
    /// bytes, NaN or infinite weights), is larger than 16 MB, names an architecture this library does not run, or
    /// holds tensors that disagree with its architecture. The message names the file and the reason.
    /// </exception>
    public static DigitClassifier Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"The weights file '{path}' does not exist.", path);
        }

        if (info.Length > NetworkFile.MaxFileBytes)
        {
            throw new ModelFileException(path,
                $"is {info.Length} bytes; the weights of the networks this library runs take at most 2 MB, so it holds another model or is not a weights " +
                    $"file.");
        }

        return FromBytes(File.ReadAllBytes(path), path);
    }

    /// <summary>Creates a classifier over a copy of a trained <see cref="DigitNetwork"/>'s current weights (this needs torch).</summary>
    /// <param name="model">The model, on any device; it is not changed, and later changes to it do not affect the classifier.</param>
    /// <returns>A classifier that gives the model's answers.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException">The model is not one of the library's networks (<see cref="DigitNetwork"/>), or
    /// one of its weights is NaN or infinite.</exception>
    public static DigitClassifier FromModel(nn.Module<Tensor, Tensor> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model is not IEngineNetwork network)
        {
            throw new ArgumentException($"A classifier runs the library's networks (ConvNet, LeNet, SpeedrunNet); got {model.GetType().Name}.", nameof(model));
        }

        var parameters = network.EngineParameters();
        var weights = NetworkWeights.Create(network.Description, (span, parameter) =>
        {
            using var scope = NewDisposeScope();
            var index = network.Description.Parameters.ToList().IndexOf(parameter);
            parameters[index].detach().to(ScalarType.Float32).cpu().contiguous().data<float>().CopyTo(span);
        }, out var nonFinite);
        if (nonFinite is { } bad)
        {
            throw new ArgumentException($"The model's '{bad.Parameter.Name}' holds a NaN or infinite value at element {bad.Element}; its training diverged.",
                nameof(model));
        }

        return new DigitClassifier(
            weights,
            new Dictionary<string, string>(StringComparer.Ordinal) { [NetworkFile.ArchitectureKey] = network.Description.Name });
    }

    /// <summary>
    /// Writes the classifier's weights to <paramref name="path"/> as safetensors, atomically, with
    /// <see cref="Metadata"/> and the architecture in <c>__metadata__</c>: <see cref="Load"/> reads it back, and
    /// <see cref="ModelWeights.Load"/> or PyTorch load it into the same network.
    /// </summary>
    /// <param name="path">The destination file (conventionally <c>.safetensors</c>); replaced if it exists.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void SaveWeights(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.Write(path, NetworkFile.Write(_weights, Metadata));
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
        Span<float> image = stackalloc float[PixelCount];
        PixelScaler.Scale(mnistPixels, image, normalization: null);
        return PredictScaled(image);
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
    /// Computes the network's logits for one image (its raw outputs, before the softmax): the numbers
    /// <see cref="DigitPrediction.Probabilities"/> are the softmax of. Allocates nothing.
    /// </summary>
    /// <param name="mnistPixels">784 bytes, row-major 28x28, 0 = background, 255 = ink.</param>
    /// <param name="logits">Receives <see cref="ClassCount"/> logits (index = digit); may be longer.</param>
    /// <exception cref="ArgumentException"><paramref name="mnistPixels"/> does not hold exactly 784 bytes, or
    /// <paramref name="logits"/> is shorter than <see cref="ClassCount"/>.</exception>
    public void ComputeLogits(ReadOnlySpan<byte> mnistPixels, Span<float> logits)
    {
        if (mnistPixels.Length != PixelCount)
        {
            throw new ArgumentException($"An MNIST image is {PixelCount} bytes (28x28); got {mnistPixels.Length}.", nameof(mnistPixels));
        }

        if (logits.Length < ClassCount)
        {
            throw new ArgumentException($"The network gives {ClassCount} logits; the span holds {logits.Length}.", nameof(logits));
        }

        Span<float> image = stackalloc float[PixelCount];
        PixelScaler.Scale(mnistPixels, image, normalization: null);
        _predictor.Logits(image, 1, logits[..ClassCount]);
    }

    private static DigitClassifier LoadPretrained(string resource)
    {
        using var stream = typeof(DigitClassifier).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The assembly {typeof(DigitClassifier).Assembly.GetName().Name} lacks its embedded resource {resource}; " +
                $"it was built without the pretrained model.");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return FromBytes(bytes, $"embedded resource {resource}");
    }

    internal static DigitClassifier FromBytes(byte[] bytes, string source)
    {
        var file = SafeTensorsFile.Parse(bytes, source);
        return new DigitClassifier(NetworkFile.Read(file), new Dictionary<string, string>(file.Metadata, StringComparer.Ordinal));
    }

    // The chunk's images through the network together (the engine reads each dense layer's weights once for
    // several images); each image's logits are the bits Predict gives it.
    private void PredictChunk(ReadOnlySpan<byte> pixels, int chunk, DigitPrediction[] results)
    {
        var first = chunk * ChunkSize;
        var count = Math.Min(results.Length, first + ChunkSize) - first;
        var images = _chunkImages ??= new float[ChunkSize * PixelCount];
        PixelScaler.Scale(pixels.Slice(first * PixelCount, count * PixelCount), images.AsSpan(0, count * PixelCount), normalization: null);
        Span<float> logits = stackalloc float[ChunkSize * ClassCount];
        _predictor.Logits(images, count, logits);
        for (var i = 0; i < count; i++)
        {
            results[first + i] = Prediction(images.AsSpan(i * PixelCount, PixelCount), logits.Slice(i * ClassCount, ClassCount));
        }
    }

    private DigitPrediction PredictScaled(ReadOnlySpan<float> image)
    {
        Span<float> logits = stackalloc float[ClassCount];
        _predictor.Logits(image, 1, logits);
        return Prediction(image, logits);
    }

    private DigitPrediction Prediction(ReadOnlySpan<float> image, ReadOnlySpan<float> logits)
    {

        // The digit is the first largest logit, as torch's argmax; the softmax is shifted by it so exp never overflows.
        var digit = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[digit])
            {
                digit = i;
            }
        }

        var probabilities = new float[ClassCount];
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

        return new DigitPrediction(digit, probabilities, DigitLikeness.LooksLikeDigit(image, NetworkDescription.ImageSize));
    }
}
