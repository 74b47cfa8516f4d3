using MnistCnn.Core.Inference;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Models;
using MnistCnn.Core.Tests.Support;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Inference;

[Collection(TorchGlobalState.Name)]
public sealed class DigitClassifierTests
{
    private static readonly string Seed7 = Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch", "convnet-seed7.safetensors");

    [Fact]
    public void Load_PyTorchWrittenFile_GivesTheSameProbabilitiesAsTorch()
    {
        using var model = new ConvNet();
        ModelWeights.Load(model, Seed7);
        var classifier = DigitClassifier.Load(Seed7);
        var pixels = SyntheticImage(3);

        var prediction = classifier.Predict(pixels);

        using var scope = NewDisposeScope();
        var input = tensor(pixels.Select(p => p / 255f).ToArray(), [1, 1, 28, 28]);
        var expected = model.forward(input).softmax(1).data<float>().ToArray();
        prediction.Probabilities.Should().HaveCount(10);
        prediction.Probabilities.Zip(expected).Should().OnlyContain(p => Math.Abs(p.First - p.Second) < 1e-6);
        prediction.Digit.Should().Be(Array.IndexOf(expected, expected.Max()));
        prediction.Confidence.Should().Be(prediction.Probabilities.Max());
        prediction.Probabilities.Sum().Should().BeApproximately(1f, 1e-5f);
        classifier.Metadata.Should().ContainKey("source", "the PyTorch writer's __metadata__ is kept");
    }

    [Fact]
    public void FromModel_LaterChangesToTheModel_DoNotAffectTheClassifier()
    {
        using var model = new ConvNet(seed: 3);
        var classifier = DigitClassifier.FromModel(model);
        var pixels = SyntheticImage(5);
        var before = classifier.Predict(pixels);

        using (no_grad())
        {
            foreach (var p in model.parameters())
            {
                p.add_(1.0f);
            }
        }

        classifier.Predict(pixels).Should().Be(before);
    }

    [Fact]
    public void PredictBatch_AnyParallelism_EqualsOneByOne()
    {
        var classifier = DigitClassifier.Load(Seed7);
        const int count = 300;
        var pixels = Enumerable.Range(0, count).SelectMany(SyntheticImage).ToArray();
        var single = Enumerable.Range(0, count).Select(i => classifier.Predict(pixels.AsSpan(i * 784, 784))).ToArray();

        classifier.PredictBatch(pixels, count).Should().Equal(single);
        classifier.PredictBatch(pixels, count, maxDegreeOfParallelism: 1).Should().Equal(single);
        classifier.PredictBatch(pixels, count, maxDegreeOfParallelism: 3).Should().Equal(single);
        classifier.PredictBatch(pixels.AsMemory(0, 784), 1).Should().Equal(single[0]);
    }

    [Fact]
    public void PredictBatch_CancelledToken_Throws()
    {
        var classifier = DigitClassifier.Load(Seed7);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        var act = () => classifier.PredictBatch(new byte[784 * 200], 200, cancellationToken: cancelled.Token);

        act.Should().Throw<OperationCanceledException>();
    }

    [Fact]
    public void Predict_ManyThreadsAtOnce_GiveTheAnswersOfOneThread()
    {
        var classifier = DigitClassifier.Load(Seed7);
        const int count = 400;
        var pixels = Enumerable.Range(0, count).SelectMany(SyntheticImage).ToArray();
        var expected = Enumerable.Range(0, count).Select(i => classifier.Predict(pixels.AsSpan(i * 784, 784))).ToArray();
        var failures = 0;
        var done = 0;

        // 16 threads, each walking the images from another starting point, all released at once.
        using var start = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, 16).Select(t => new Thread(() =>
        {
            start.Wait();
            for (var round = 0; round < 3; round++)
            {
                for (var k = 0; k < count; k++)
                {
                    var i = (k + (t * 37)) % count;
                    if (!classifier.Predict(pixels.AsSpan(i * 784, 784)).Equals(expected[i]))
                    {
                        Interlocked.Increment(ref failures);
                    }

                    Interlocked.Increment(ref done);
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        start.Set();
        threads.ForEach(t => t.Join());

        done.Should().Be(16 * 3 * count);
        failures.Should().Be(0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(783)]
    [InlineData(785)]
    [InlineData(1568)]
    public void Predict_WrongLength_ThrowsNamingTheArgument(int length)
    {
        var classifier = DigitClassifier.Load(Seed7);

        var act = () => classifier.Predict(new byte[length]);

        act.Should().Throw<ArgumentException>().WithParameterName("mnistPixels").WithMessage($"*784*{length}*");
    }

    [Fact]
    public void PredictBatch_BadArguments_ThrowStandardExceptions()
    {
        var classifier = DigitClassifier.Load(Seed7);
        var two = new byte[2 * 784];

        classifier.Invoking(c => c.PredictBatch(two, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("count");
        classifier.Invoking(c => c.PredictBatch(two, -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("count");
        classifier.Invoking(c => c.PredictBatch(two, 3)).Should().Throw<ArgumentException>().WithParameterName("mnistPixels").WithMessage("*3 MNIST images*2352*1568*");
        classifier.Invoking(c => c.PredictBatch(two, 1)).Should().Throw<ArgumentException>().WithParameterName("mnistPixels");
        classifier.Invoking(c => c.PredictBatch((byte[])null!, 1)).Should().Throw<ArgumentException>().WithParameterName("mnistPixels").WithMessage("*got 0*");
        classifier.Invoking(c => c.PredictBatch(two, 2, maxDegreeOfParallelism: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("maxDegreeOfParallelism");
        classifier.Invoking(c => c.PredictBatch(two, int.MaxValue)).Should().Throw<ArgumentException>().WithParameterName("mnistPixels");
    }

    [Fact]
    public void LoadAndFromModel_BadArguments_ThrowStandardExceptions()
    {
        using var folder = new TempDirectory();

        FluentActions.Invoking(() => DigitClassifier.Load(null!)).Should().Throw<ArgumentNullException>().WithParameterName("path");
        FluentActions.Invoking(() => DigitClassifier.Load(string.Empty)).Should().Throw<ArgumentException>().WithParameterName("path");
        FluentActions.Invoking(() => DigitClassifier.Load(folder.File("missing.safetensors"))).Should().Throw<FileNotFoundException>().WithMessage("*missing.safetensors*");
        FluentActions.Invoking(() => DigitClassifier.FromModel(null!)).Should().Throw<ArgumentNullException>().WithParameterName("model");
    }

    [Fact]
    public void FromModel_NaNWeight_ThrowsNamingTheParameter()
    {
        using var model = new ConvNet(seed: 1);
        using (no_grad())
        {
            model.state_dict()["conv2.bias"][4] = tensor(float.NaN);
        }

        var act = () => DigitClassifier.FromModel(model);

        act.Should().Throw<ArgumentException>().WithParameterName("model").WithMessage("*conv2.bias*NaN*element 4*");
    }

    [Fact]
    public void Load_WeightsOfAnotherArchitecture_ThrowsNamingTheFile()
    {
        using var folder = new TempDirectory();
        var wider = folder.File("wider.safetensors");
        using (var other = nn.Sequential(("conv1", nn.Conv2d(1, 4, 3))))
        {
            ModelWeights.Save(other, wider);
        }

        var renamed = folder.File("renamed.safetensors");
        File.WriteAllBytes(renamed, SafeTensorsFile.Write(
            SafeTensorsFileTests.ConvNetTensors(0).Select(t => t.Name == "linear1.bias" ? t with { Name = "fc.bias" } : t)));
        var reshaped = folder.File("reshaped.safetensors");
        File.WriteAllBytes(reshaped, SafeTensorsFile.Write(
            SafeTensorsFileTests.ConvNetTensors(0).Select(t => t.Name == "linear1.weight" ? t with { Shape = [3456, 10] } : t)));
        var doubles = folder.File("doubles.safetensors");
        File.WriteAllBytes(doubles, SafeTensorsFile.Write(
            SafeTensorsFileTests.ConvNetTensors(0).Select(t => t.Name == "conv1.bias" ? t with { DType = "I32" } : t)));

        foreach (var (path, reason) in new[] { (wider, "missing*"), (renamed, "missing [linear1.bias], unexpected [fc.bias]"), (reshaped, "'linear1.weight' is F32 [3456, 10]*"), (doubles, "'conv1.bias' is I32 [3]*") })
        {
            FluentActions.Invoking(() => DigitClassifier.Load(path)).Should().Throw<ModelFileException>()
                .WithMessage($"{path}:*{reason}*another architecture*").Which.FilePath.Should().Be(path);
        }
    }

    [Fact]
    public void Load_LeNetFile_ReadsTheArchitectureAndGivesTorchsLogits()
    {
        using var folder = new TempDirectory();
        var path = folder.File("lenet.safetensors");
        using var model = new LeNet(seed: 11);
        ModelWeights.Save(model, path);
        var images = new byte[5 * 784];
        new Random(3).NextBytes(images);

        var classifier = DigitClassifier.Load(path);

        classifier.Architecture.Should().Be("LeNet");
        classifier.Metadata["architecture"].Should().Be("LeNet");
        using var scope = NewDisposeScope();
        model.eval();
        var expected = model.call(tensor(images.Select(b => b / 255f).ToArray(), [5, 1, 28, 28])).data<float>().ToArray();
        var logits = new float[10];
        for (var n = 0; n < 5; n++)
        {
            classifier.ComputeLogits(images.AsSpan(n * 784, 784), logits);
            logits.Should().BeEquivalentTo(expected[(n * 10)..((n + 1) * 10)], o => o.Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-5f)).WhenTypeIs<float>());
        }
    }

    [Theory]
    [InlineData("LeNet")]
    [InlineData("ConvNet")]
    public void SaveWeights_LoadedBack_GivesTheSameWeightsArchitectureAndMetadata(string architecture)
    {
        using var folder = new TempDirectory();
        using nn.Module<Tensor, Tensor> model = architecture == "LeNet" ? new LeNet(seed: 2) : new ConvNet(seed: 2);
        var classifier = DigitClassifier.FromModel(model);
        var path = folder.File("saved.safetensors");

        classifier.SaveWeights(path);
        var loaded = DigitClassifier.Load(path);

        loaded.Architecture.Should().Be(architecture);
        loaded.Metadata.Should().Equal(classifier.Metadata);
        for (var i = 0; i < classifier.Weights.Description.Parameters.Count; i++)
        {
            loaded.Weights[i].ToArray().Should().Equal(classifier.Weights[i].ToArray());
        }

        using var torchModel = architecture == "LeNet" ? (nn.Module)new LeNet(seed: 0) : new ConvNet(seed: 0);
        ModelWeights.Load(torchModel, path); // the file is an ordinary weights file for the torch network too
        torchModel.state_dict().Values.Zip(model.state_dict().Values).Should().OnlyContain(p => p.First.allclose(p.Second, 0, 0, false));
    }

    [Fact]
    public void Load_UnknownOrInconsistentArchitecture_ThrowsNamingTheFileAndTheArchitecture()
    {
        using var folder = new TempDirectory();
        var unknown = folder.File("unknown.safetensors");
        File.WriteAllBytes(unknown, SafeTensorsFile.Write(SafeTensorsFileTests.ConvNetTensors(0), [new("architecture", "ResNet18")]));
        var inconsistent = folder.File("inconsistent.safetensors");
        File.WriteAllBytes(inconsistent, SafeTensorsFile.Write(SafeTensorsFileTests.ConvNetTensors(0), [new("architecture", "LeNet")]));

        FluentActions.Invoking(() => DigitClassifier.Load(unknown)).Should().Throw<ModelFileException>()
            .WithMessage($"{unknown}:*architecture 'ResNet18'*ConvNet, LeNet*").Which.FilePath.Should().Be(unknown);
        FluentActions.Invoking(() => DigitClassifier.Load(inconsistent)).Should().Throw<ModelFileException>()
            .WithMessage($"{inconsistent}:*LeNet's weights: missing [fc1.weight*unexpected [linear1.weight*another architecture*").Which.FilePath.Should().Be(inconsistent);
    }

    [Fact]
    public void Load_DamagedLeNetFiles_ThrowNamingTheFile()
    {
        using var folder = new TempDirectory();
        var valid = folder.File("valid.safetensors");
        using (var model = new LeNet(seed: 1))
        {
            ModelWeights.Save(model, valid);
        }

        var bytes = File.ReadAllBytes(valid);
        var truncated = folder.File("truncated.safetensors");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length - 1000)]);
        var reshaped = folder.File("reshaped.safetensors");
        var file = SafeTensorsFile.Parse(bytes, valid);
        File.WriteAllBytes(reshaped, SafeTensorsFile.Write(
            file.Entries.Select(e => (e.Name, e.DType, e.Name == "fc1.weight" ? new long[] { 800, 500 } : e.Shape, file.GetBytes(e).ToArray())),
            [new("architecture", "LeNet")]));
        var nonFinite = folder.File("nan.safetensors");
        var poisoned = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(poisoned.AsSpan(poisoned.Length - 4), float.NaN);
        File.WriteAllBytes(nonFinite, poisoned);

        foreach (var (path, reason) in new[] { (truncated, "*"), (reshaped, "*'fc1.weight' is F32 [800, 500] but LeNet needs F32 [500, 800]*"), (nonFinite, "*NaN*") })
        {
            FluentActions.Invoking(() => DigitClassifier.Load(path)).Should().Throw<ModelFileException>()
                .WithMessage($"{path}:{reason}").Which.FilePath.Should().Be(path);
        }
    }

    [Fact]
    public void Load_FileFarLargerThanConvNetWeights_IsRefusedBeforeReading()
    {
        using var folder = new TempDirectory();
        var path = folder.File("huge.safetensors");
        using (var stream = File.Create(path))
        {
            stream.SetLength(64L * 1024 * 1024);
        }

        var act = () => DigitClassifier.Load(path);

        act.Should().Throw<ModelFileException>().WithMessage($"{path}: is 67108864 bytes*");
    }

    [Fact]
    public void Prediction_ToStringAndEquality_DescribeTheValues()
    {
        var classifier = DigitClassifier.Load(Seed7);
        var a = classifier.Predict(SyntheticImage(1));
        var b = classifier.Predict(SyntheticImage(1));

        a.Should().Be(b);
        a.GetHashCode().Should().Be(b.GetHashCode());
        a.Should().NotBeSameAs(b);
        a.ToString().Should().StartWith($"{a.Digit} (");
        var blank = classifier.Predict(new byte[784]);
        blank.IsLikelyDigit.Should().BeFalse();
        blank.ToString().Should().EndWith(", not likely a digit)");
    }

    /// <summary>A deterministic stroke-like image: a thick diagonal bar whose angle depends on <paramref name="seed"/>.</summary>
    internal static byte[] SyntheticImage(int seed)
    {
        var pixels = new byte[784];
        var random = new Random(seed);
        var slope = (random.NextDouble() * 2) - 1;
        for (var y = 5; y < 23; y++)
        {
            var x = (int)(14 + (slope * (y - 14)));
            for (var dx = -1; dx <= 1; dx++)
            {
                pixels[(y * 28) + Math.Clamp(x + dx, 0, 27)] = (byte)random.Next(150, 256);
            }
        }

        return pixels;
    }
}
