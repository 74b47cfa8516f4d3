using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Support;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Inference;

/// <summary>The models shipped in the package: their recorded settings and accuracy hold, and the README states the best one's.</summary>
[Collection(TorchGlobalState.Name)]
[Trait("Category", "RealData")]
public sealed partial class PretrainedTests
{
    [Theory]
    [InlineData(PretrainedModel.Best, "LeNet")]
    [InlineData(PretrainedModel.CaseStudy, "ConvNet")]
    public void Pretrained_TestSet_HasTheRecordedAccuracy(PretrainedModel which, string architecture)
    {
        var classifier = DigitClassifier.Pretrained(which);
        var images = RealMnistImages.Test;
        var labels = RealMnistImages.TestLabelBytes;

        var predictions = classifier.PredictBatch(images.Pixels, images.Count);

        var correct = Enumerable.Range(0, images.Count).Count(i => predictions[i].Digit == labels[i]);
        var accuracy = (100.0 * correct / images.Count).ToString("F2", CultureInfo.InvariantCulture);
        TestArtifacts.Write($"inference-pretrained-{which}.txt",
        [
            $"DigitClassifier.Pretrained(PretrainedModel.{which}) ({classifier.Architecture}) on the {images.Count} MNIST test images: {correct} correct, {accuracy}%",
            $"recorded in the model: {classifier.Metadata["test_accuracy"]}% ({classifier.Metadata["test_correct"]} correct); trained with: {classifier.Metadata["training_command"]}",
        ]);
        classifier.Metadata["test_correct"].Should().Be(correct.ToString(CultureInfo.InvariantCulture));
        classifier.Metadata["test_accuracy"].Should().Be(accuracy);
        classifier.Architecture.Should().Be(architecture);
        classifier.Metadata["architecture"].Should().Be(architecture);
        DigitClassifier.Pretrained(which).Should().BeSameAs(classifier);
    }

    [Fact]
    public void Pretrained_Default_IsTheBestModelAboveNinetyNinePointFivePercent()
    {
        var best = DigitClassifier.Pretrained();

        best.Should().BeSameAs(DigitClassifier.Pretrained(PretrainedModel.Best));
        best.Architecture.Should().Be("LeNet");
        double.Parse(best.Metadata["test_accuracy"], CultureInfo.InvariantCulture).Should().BeGreaterThanOrEqualTo(99.5);
    }

    [Theory]
    [InlineData(PretrainedModel.Best, "11", "0.002", "true")]
    [InlineData(PretrainedModel.CaseStudy, "5", "0.01", "false")]
    public void Pretrained_Metadata_RecordsTheSettingsAndTheData(PretrainedModel which, string epochs, string learningRate, string shuffle)
    {
        var metadata = DigitClassifier.Pretrained(which).Metadata;

        metadata.Should().Contain("seed", "0").And.Contain("epochs", epochs).And.Contain("batch_size", "64")
            .And.Contain("learning_rate", learningRate).And.Contain("shuffle", shuffle);
        metadata["training_command"].Should().StartWith("./build.sh train");
        foreach (var name in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" })
        {
            using var stream = File.OpenRead(Path.Combine(RealMnistFolder.Path, name));
            metadata[$"sha256_{name}"].Should().Be(Convert.ToHexStringLower(SHA256.HashData(stream)), name);
        }
    }

    [Fact]
    public void PackageReadme_StatesTheRecordedAccuracy()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryFolder.Root, "docs", "package-readme.md"));

        var stated = StatedAccuracy().Match(readme);

        stated.Success.Should().BeTrue("docs/package-readme.md states the pretrained model's test accuracy");
        stated.Groups[1].Value.Should().Be(DigitClassifier.Pretrained(PretrainedModel.Best).Metadata["test_accuracy"]);
    }

    [Theory]
    [InlineData(PretrainedModel.Best)]
    [InlineData(PretrainedModel.CaseStudy)]
    public void ComputeLogits_PretrainedModel_AgreesWithTorchOnEveryTestImage(PretrainedModel which)
    {
        using var folder = new TempDirectory();
        var path = folder.File("pretrained.safetensors");
        var classifier = DigitClassifier.Pretrained(which);
        classifier.SaveWeights(path);
        using nn.Module<Tensor, Tensor> model = classifier.Architecture == "LeNet" ? new LeNet() : new ConvNet();
        ModelWeights.Load(model, path);

        var report = ManagedForwardTests.CompareWithTorch(model, classifier);

        TestArtifacts.Write($"inference-vs-torch-pretrained-{which}.txt",
        [
            $"managed forward vs TorchSharp {classifier.Architecture}.forward, the pretrained model PretrainedModel.{which}:",
            string.Create(CultureInfo.InvariantCulture, $"  {report.Images} test images, largest |managed - torch| / max(1, |torch|) over all logits: {report.MaxRelativeError:E2} (tolerance 1E-005)"),
            $"  images whose digit differs: {report.Mismatches}",
        ]);
        report.Mismatches.Should().Be(0);
        report.MaxRelativeError.Should().BeLessThanOrEqualTo(1e-5);
    }

    [GeneratedRegex(@"pretrained model's test accuracy: \*\*([0-9.]+)%\*\*")]
    private static partial Regex StatedAccuracy();
}
