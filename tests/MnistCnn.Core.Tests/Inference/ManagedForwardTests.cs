using System.Globalization;
using MnistCnn.Core.Data;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Support;
using MnistCnn.Core.Training;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Inference;

/// <summary>
/// The managed forward pass against TorchSharp's <see cref="ConvNet.forward"/>, on every real MNIST test
/// image: logits agree to 1e-5 relative (to the logit's size, at least 1) and the digits are the same.
/// </summary>
[Collection(TorchGlobalState.Name)]
[Trait("Category", "RealData")]
public sealed class ManagedForwardTests
{
    private const double Tolerance = 1e-5;

    [Fact]
    public void ComputeLogits_BrieflyTrainedModel_AgreesWithTorchOnEveryTestImage()
    {
        using var model = TrainBriefly();

        var report = CompareWithTorch(model, DigitClassifier.FromModel(model));

        Record("briefly trained (1 epoch over 6,400 training images, seed 0)", report);
        report.Mismatches.Should().Be(0, "the managed digit must be torch's digit for every test image");
        report.MaxRelativeError.Should().BeLessThanOrEqualTo(Tolerance);
    }

    [Fact]
    public void ComputeLogits_PyTorchInitialisedModel_AgreesWithTorchOnEveryTestImage()
    {
        // Untrained weights written by PyTorch: logits are small and close together, a harder case for the digit.
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch", "convnet-seed7.safetensors");
        using var model = new ConvNet();
        ModelWeights.Load(model, path);

        var report = CompareWithTorch(model, DigitClassifier.Load(path));

        Record("PyTorch's initial weights (seed 7)", report);
        report.MaxRelativeError.Should().BeLessThanOrEqualTo(Tolerance);
        report.Mismatches.Should().Be(0);
    }

    [Fact]
    public void Load_LeNetFileSavedByModelWeights_GivesTorchsDigitOnEveryTestImage()
    {
        using var model = TrainBriefly(new LeNet(seed: 0));
        using var folder = new TempDirectory();
        var path = folder.File("lenet.safetensors");
        ModelWeights.Save(model, path);

        var classifier = DigitClassifier.Load(path);
        var report = CompareWithTorch(model, classifier);

        Record("LeNet, briefly trained (1 epoch over 6,400 training images, seed 0), saved by ModelWeights.Save and read by DigitClassifier.Load", report);
        classifier.Architecture.Should().Be("LeNet");
        report.Mismatches.Should().Be(0, "the managed digit must be torch's digit for every test image");
        report.MaxRelativeError.Should().BeLessThanOrEqualTo(Tolerance);
    }

    internal static ConvNet TrainBriefly() => TrainBriefly(new ConvNet(seed: 0));

    internal static TModel TrainBriefly<TModel>(TModel model)
        where TModel : nn.Module<Tensor, Tensor>
    {
        const int count = 6400;
        var train = RealMnistImages.Train;
        using var dataset = new DigitDataset(train.Pixels[..(count * 784)], RealMnistImages.TrainLabelBytes[..count], 28, 28);
        new Trainer(new TrainerOptions { Epochs = 1, Seed = 0 }).Fit(model, new DigitDataLoader(dataset), valLoader: null);
        return model;
    }

    internal static Comparison CompareWithTorch(nn.Module<Tensor, Tensor> model, DigitClassifier classifier)
    {
        var images = RealMnistImages.Test;
        var scaled = new float[images.Pixels.Length];
        PixelScaler.Scale(images.Pixels, scaled, normalization: null);
        var torchLogits = new float[images.Count * 10];
        model.eval();
        using (no_grad())
        {
            const int batch = 1000;
            for (var start = 0; start < images.Count; start += batch)
            {
                using var scope = NewDisposeScope();
                var input = tensor(scaled.AsSpan(start * 784, batch * 784).ToArray(), [batch, 1, 28, 28]);
                model.forward(input).data<float>().ToArray().CopyTo(torchLogits, start * 10);
            }
        }

        double maxRelative = 0;
        var mismatches = 0;
        Span<float> logits = stackalloc float[10];
        for (var i = 0; i < images.Count; i++)
        {
            classifier.ComputeLogits(RealMnistImages.Image(images, i), logits);
            var expected = torchLogits.AsSpan(i * 10, 10);
            for (var j = 0; j < 10; j++)
            {
                maxRelative = Math.Max(maxRelative, Math.Abs(logits[j] - expected[j]) / Math.Max(1.0, Math.Abs(expected[j])));
            }

            if (ArgMax(logits) != ArgMax(expected))
            {
                mismatches++;
            }

            classifier.Predict(RealMnistImages.Image(images, i)).Digit.Should().Be(ArgMax(logits));
        }

        return new Comparison(images.Count, maxRelative, mismatches);
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static void Record(string model, Comparison report) =>
        TestArtifacts.Write($"inference-vs-torch-{(model.StartsWith("PyTorch", StringComparison.Ordinal) ? "pytorch-init" : "trained")}.txt",
        [
            $"managed forward vs TorchSharp ConvNet.forward, {model}:",
            string.Create(CultureInfo.InvariantCulture, $"  {report.Images} test images, largest |managed - torch| / max(1, |torch|) over all logits: {report.MaxRelativeError:E2} (tolerance {Tolerance:E0})"),
            $"  images whose digit differs: {report.Mismatches}",
        ]);

    internal sealed record Comparison(int Images, double MaxRelativeError, int Mismatches);
}
