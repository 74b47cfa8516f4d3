using System.Globalization;
using MnistCnn.Core.Data;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Inference;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Models;

/// <summary>
/// <see cref="DigitClassifier.ExportOnnx"/>: the file runs in ONNX Runtime and gives TorchSharp's logits. The
/// model is trained briefly on the real MNIST training split (<see cref="BrieflyTrainedModel"/>) so that its
/// logits are those of a working classifier; the exported file is left in <c>artifacts/onnx/</c> for the
/// ONNX checker on the Python side.
/// </summary>
[Collection(TorchGlobalState.Name)]
[Trait("Category", "RealData")]
public sealed class OnnxExportTests
{
    // Differences are measured relative to the logit's size, absolute below 1: float32 rounding in sums of
    // 3,456 products grows with the logits, which reach about 20 for a trained model.
    private const float Tolerance = 1e-5f;

    private static readonly Lazy<(ConvNet Model, string Path)> Exported = new(() =>
    {
        var model = BrieflyTrainedModel.Value;
        var path = Path.Combine(RepositoryFolder.Root, "artifacts", "onnx", "convnet.onnx");
        DigitClassifier.FromModel(model).ExportOnnx(path);
        return (model, path);
    });

    [Fact]
    public void ExportOnnx_RealTestImages_OnnxRuntimeGivesTorchSharpsLogits()
    {
        var (model, path) = Exported.Value;
        using var test = MnistDataset.Load(RealMnistFolder.Path, MnistSplit.Test);
        using var session = new InferenceSession(path);
        float worst = 0, worstRelative = 0, largest = 0;
        var (agree, count) = (0, 0);
        foreach (var (start, size) in new[] { (0, 1000), (1000, 1000), (5000, 1), (9993, 7) })
        {
            using var batch = test.GetBatch(start, size);
            var pixels = batch.Images.data<float>().ToArray();
            var expected = TorchLogits(model, batch.Images);

            var actual = RunOnnx(session, pixels, size);

            actual.Should().HaveSameCount(expected);
            for (var i = 0; i < actual.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
                worstRelative = Math.Max(worstRelative, Difference(actual[i], expected[i]));
                largest = Math.Max(largest, Math.Abs(expected[i]));
            }

            for (var n = 0; n < size; n++)
            {
                agree += ArgMax(actual.AsSpan(n * 10, 10)) == ArgMax(expected.AsSpan(n * 10, 10)) ? 1 : 0;
            }

            count += size;
        }

        TestArtifacts.Write("onnx-export.txt", [string.Create(CultureInfo.InvariantCulture,
            $"ONNX Runtime {OrtEnv.Instance().GetVersionString()} on {count} real MNIST test images: largest logit difference from TorchSharp {worst:E2} (logits up to {largest:F1}; relative {worstRelative:E2}); same class for {agree} of {count}")]);
        worstRelative.Should().BeLessThanOrEqualTo(Tolerance);
        agree.Should().Be(count);
    }

    [Fact]
    public void ExportOnnx_SyntheticImages_OnnxRuntimeGivesTorchSharpsLogits()
    {
        var (model, path) = Exported.Value;
        using var session = new InferenceSession(path);
        var random = new Random(3);
        const int Count = 33;
        var pixels = new float[Count * 784];
        for (var i = 0; i < pixels.Length; i++)
        {
            // Blank, saturated, noise and out-of-range inputs: the graph computes the same function everywhere.
            pixels[i] = (i / 784) switch
            {
                0 => 0f,
                1 => 1f,
                2 => -3f,
                _ => (float)random.NextDouble(),
            };
        }

        using var images = tensor(pixels, [Count, 1, 28, 28]);
        var expected = TorchLogits(model, images);

        var actual = RunOnnx(session, pixels, Count);

        actual.Zip(expected, Difference).Max().Should().BeLessThanOrEqualTo(Tolerance);
    }

    [Fact]
    public void ExportOnnx_File_DeclaresTheInterfaceWithADynamicBatch()
    {
        var (_, path) = Exported.Value;
        using var session = new InferenceSession(path);

        var input = session.InputMetadata.Should().ContainSingle().Subject;
        input.Key.Should().Be("input");
        input.Value.ElementType.Should().Be<float>();
        input.Value.Dimensions.Should().Equal(-1, 1, 28, 28);
        input.Value.SymbolicDimensions[0].Should().Be("N");
        var output = session.OutputMetadata.Should().ContainSingle().Subject;
        output.Key.Should().Be("logits");
        output.Value.Dimensions.Should().Equal(-1, 10);
        session.ModelMetadata.ProducerName.Should().Be("MnistCnn.Core");
    }

    [Fact]
    public void ExportOnnx_ClassifierLoadedFromAWeightsFile_WritesTheSameFileAsFromTheModel()
    {
        var (model, path) = Exported.Value;
        using var folder = new TempDirectory();
        ModelWeights.Save(model, folder.File("model.safetensors"));
        var classifier = DigitClassifier.Load(folder.File("model.safetensors"));

        classifier.ExportOnnx(folder.File("classifier.onnx"));

        File.ReadAllBytes(folder.File("classifier.onnx")).Should().Equal(File.ReadAllBytes(path));
    }

    [Fact]
    public void ExportOnnx_PretrainedLeNet_OnnxRuntimeGivesTorchSharpsAndTheClassifiersLogits()
    {
        // The shipped best model, in TorchSharp's LeNet: the exported graph (Conv, Relu, MaxPool, ..., Gemm) must
        // compute what TorchSharp's forward and the managed classifier compute, on real digits.
        var classifier = DigitClassifier.Pretrained(PretrainedModel.Best);
        classifier.Architecture.Should().Be("LeNet");
        using var folder = new TempDirectory();
        classifier.SaveWeights(folder.File("lenet.safetensors"));
        using var model = new LeNet(seed: 0);
        ModelWeights.Load(model, folder.File("lenet.safetensors"));
        var path = Path.Combine(RepositoryFolder.Root, "artifacts", "onnx", "lenet.onnx");
        DigitClassifier.FromModel(model).ExportOnnx(path);
        classifier.ExportOnnx(folder.File("classifier.onnx"));
        using var test = MnistDataset.Load(RealMnistFolder.Path, MnistSplit.Test);
        using var session = new InferenceSession(path);
        const int Count = 500;
        using var batch = test.GetBatch(2000, Count);
        var pixels = batch.Images.data<float>().ToArray();

        var actual = RunOnnx(session, pixels, Count);

        var expected = TorchLogits(model, batch.Images);
        var managed = new float[Count * 10];
        for (var n = 0; n < Count; n++)
        {
            classifier.ComputeLogits(RealMnistImages.Image(RealMnistImages.Test, 2000 + n), managed.AsSpan(n * 10, 10));
        }

        var worst = actual.Zip(expected, Difference).Max();
        TestArtifacts.Write("onnx-export-lenet.txt", [string.Create(CultureInfo.InvariantCulture,
            $"ONNX Runtime {OrtEnv.Instance().GetVersionString()}, the pretrained LeNet on {Count} real MNIST test images: largest relative logit difference from TorchSharp {worst:E2}, from the managed classifier {actual.Zip(managed, Difference).Max():E2}")]);
        worst.Should().BeLessThanOrEqualTo(Tolerance);
        actual.Zip(managed, Difference).Max().Should().BeLessThanOrEqualTo(Tolerance);
        Enumerable.Range(0, Count).Count(n => ArgMax(actual.AsSpan(n * 10, 10)) == ArgMax(expected.AsSpan(n * 10, 10))).Should().Be(Count);
        File.ReadAllBytes(folder.File("classifier.onnx")).Should().Equal(File.ReadAllBytes(path));
        using var lenetSession = new InferenceSession(path);
        lenetSession.ModelMetadata.GraphName.Should().Be("LeNet");
    }

    [Fact]
    public void ExportOnnx_NotALibraryNetwork_ThrowsNamingTheModel()
    {
        using var model = TorchSharp.torch.nn.Sequential(("flatten", TorchSharp.torch.nn.Flatten()), ("fc", TorchSharp.torch.nn.Linear(784, 10)));

        ((Action)(() => DigitClassifier.FromModel(model).ExportOnnx("x.onnx"))).Should().Throw<ArgumentException>()
            .WithParameterName("model").WithMessage("*Sequential*");
    }

    [Fact]
    public void ExportOnnx_ExistingFile_IsReplacedWithNoTemporaryFileLeft()
    {
        using var folder = new TempDirectory();
        using var model = new ConvNet(seed: 4);
        var path = folder.File("model.onnx");
        File.WriteAllText(path, "old");

        DigitClassifier.FromModel(model).ExportOnnx(path);

        Directory.GetFiles(folder.Path).Should().Equal(path);
        using var session = new InferenceSession(path);
        session.InputMetadata.Should().ContainKey("input");
    }

    [Fact]
    public void ExportOnnx_SameModelTwice_WritesTheSameBytes()
    {
        using var folder = new TempDirectory();
        using var model = new ConvNet(seed: 5);

        DigitClassifier.FromModel(model).ExportOnnx(folder.File("a.onnx"));
        DigitClassifier.FromModel(model).ExportOnnx(folder.File("b.onnx"));

        File.ReadAllBytes(folder.File("b.onnx")).Should().Equal(File.ReadAllBytes(folder.File("a.onnx")));
    }

    [Fact]
    public void ExportOnnx_BadArguments_ThrowNamingThem()
    {
        using var model = new ConvNet(seed: 6);

        var classifier = DigitClassifier.FromModel(model);

        ((Action)(() => classifier.ExportOnnx(null!))).Should().Throw<ArgumentNullException>().WithParameterName("path");
        ((Action)(() => classifier.ExportOnnx(""))).Should().Throw<ArgumentException>().WithParameterName("path");
    }

    private static float[] TorchLogits(TorchSharp.torch.nn.Module<Tensor, Tensor> model, Tensor images)
    {
        using var noGrad = no_grad();
        using var logits = model.call(images);
        return logits.data<float>().ToArray();
    }

    private static float[] RunOnnx(InferenceSession session, float[] pixels, int count)
    {
        var input = new DenseTensor(pixels, [count, 1, 28, 28]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        var logits = results.Single(r => r.Name == "logits").AsTensor<float>();
        logits.Dimensions.ToArray().Should().Equal(count, 10);
        return logits.ToArray();
    }

    private static float Difference(float actual, float expected) => Math.Abs(actual - expected) / Math.Max(1, Math.Abs(expected));

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            best = values[i] > values[best] ? i : best;
        }

        return best;
    }
}
