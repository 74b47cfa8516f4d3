using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Models;

namespace MnistCnn.Core.Tests.Inference;

/// <summary>The model shipped in the package: its recorded settings and accuracy hold, and the README states them.</summary>
[Collection(TorchGlobalState.Name)]
[Trait("Category", "RealData")]
public sealed partial class PretrainedTests
{
    [Fact]
    public void Pretrained_TestSet_HasTheRecordedAccuracy()
    {
        var classifier = DigitClassifier.Pretrained();
        var images = RealMnistImages.Test;
        var labels = RealMnistImages.TestLabelBytes;

        var predictions = classifier.PredictBatch(images.Pixels, images.Count);

        var correct = Enumerable.Range(0, images.Count).Count(i => predictions[i].Digit == labels[i]);
        var accuracy = (100.0 * correct / images.Count).ToString("F2", CultureInfo.InvariantCulture);
        TestArtifacts.Write("inference-pretrained.txt",
        [
            $"DigitClassifier.Pretrained() on the {images.Count} MNIST test images: {correct} correct, {accuracy}%",
            $"recorded in the model: {classifier.Metadata["test_accuracy"]}% ({classifier.Metadata["test_correct"]} correct); trained with: {classifier.Metadata["training_command"]}",
        ]);
        classifier.Metadata["test_correct"].Should().Be(correct.ToString(CultureInfo.InvariantCulture));
        classifier.Metadata["test_accuracy"].Should().Be(accuracy);
        DigitClassifier.Pretrained().Should().BeSameAs(classifier);
    }

    [Fact]
    public void Pretrained_Metadata_RecordsTheCaseStudySettingsAndTheData()
    {
        var metadata = DigitClassifier.Pretrained().Metadata;

        metadata.Should().Contain("seed", "0").And.Contain("epochs", "5").And.Contain("batch_size", "64")
            .And.Contain("learning_rate", "0.01").And.Contain("shuffle", "false");
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
        var readme = File.ReadAllText(Path.Combine(TestArtifacts.RepositoryRoot, "docs", "package-readme.md"));

        var stated = StatedAccuracy().Match(readme);

        stated.Success.Should().BeTrue("docs/package-readme.md states the pretrained model's test accuracy");
        stated.Groups[1].Value.Should().Be(DigitClassifier.Pretrained().Metadata["test_accuracy"]);
    }

    [Fact]
    public void ComputeLogits_PretrainedModel_AgreesWithTorchOnEveryTestImage()
    {
        using var folder = new TempDirectory();
        var path = folder.File("pretrained.safetensors");
        using (var resource = typeof(DigitClassifier).Assembly.GetManifestResourceStream(DigitClassifier.CaseStudyResource)!)
        using (var file = File.Create(path))
        {
            resource.CopyTo(file);
        }

        using var model = new ConvNet();
        ModelWeights.Load(model, path);

        var report = ManagedForwardTests.CompareWithTorch(model, DigitClassifier.Pretrained());

        TestArtifacts.Write("inference-vs-torch-pretrained.txt",
        [
            "managed forward vs TorchSharp ConvNet.forward, the pretrained model:",
            string.Create(CultureInfo.InvariantCulture, $"  {report.Images} test images, largest |managed - torch| / max(1, |torch|) over all logits: {report.MaxRelativeError:E2} (tolerance 1E-005)"),
            $"  images whose digit differs: {report.Mismatches}",
        ]);
        report.Mismatches.Should().Be(0);
        report.MaxRelativeError.Should().BeLessThanOrEqualTo(1e-5);
    }

    [GeneratedRegex(@"pretrained model's test accuracy: \*\*([0-9.]+)%\*\*")]
    private static partial Regex StatedAccuracy();
}
