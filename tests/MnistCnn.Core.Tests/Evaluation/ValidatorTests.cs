using MnistCnn.Core.Data;
using MnistCnn.Core.Evaluation;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Evaluation;

public sealed class ValidatorTests
{
    [Fact]
    public void Evaluate_ModelWithKnownOutputs_CountsAccuracyLossAndConfusion()
    {
        const int count = 53;
        const float confidence = 2f;
        using var dataset = SyntheticDigits.Dataset(count, 4, 4);
        var loader = new DigitDataLoader(dataset, new DigitDataLoaderOptions { BatchSize = 8 });
        using var model = new FirstPixelClassifier(confidence);

        var result = Validator.Evaluate(model, loader);

        var predicted = Enumerable.Range(0, count).Select(i => i * 7 % 256 % 10).ToArray();
        var truth = Enumerable.Range(0, count).Select(i => i % 10).ToArray();
        var correct = Enumerable.Range(0, count).Count(i => predicted[i] == truth[i]);
        var expectedLoss = Enumerable.Range(0, count)
            .Average(i => Math.Log(9 + Math.Exp(confidence)) - (predicted[i] == truth[i] ? confidence : 0));
        result.Count.Should().Be(count);
        result.Correct.Should().Be(correct);
        result.Accuracy.Should().BeApproximately(100.0 * correct / count, 1e-12);
        result.Loss.Should().BeApproximately(expectedLoss, 1e-5);
        for (var t = 0; t < 10; t++)
        {
            for (var p = 0; p < 10; p++)
            {
                result.ConfusionMatrix[t][p].Should().Be(Enumerable.Range(0, count).Count(i => truth[i] == t && predicted[i] == p));
            }

            var ofClass = truth.Count(l => l == t);
            result.PerClassAccuracy[t].Should().BeApproximately(100.0 * result.ConfusionMatrix[t][t] / ofClass, 1e-12);
        }
    }

    [Fact]
    public void Accuracy_PerfectModel_Is100()
    {
        // With 10 images, image i's first pixel is 7i, whose last digit is 7i mod 10 = label only for i = 0 and 5;
        // a dataset of multiples of ten images per label keeps it exact, so build labels from the predictions.
        using var dataset = SyntheticDigits.Dataset(20, 2, 2);
        using var relabelled = new DigitDataset(
            SyntheticDigits.Make(20, 2, 2).Pixels,
            Enumerable.Range(0, 20).Select(i => (byte)(i * 7 % 256 % 10)).ToArray(),
            2,
            2);
        using var model = new FirstPixelClassifier(5f);

        Validator.Accuracy(model, new DigitDataLoader(relabelled)).Should().Be(100.0);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Evaluate_RunsInEvalModeWithoutGradients_AndRestoresTheMode(bool training)
    {
        using var dataset = SyntheticDigits.Dataset(10, 2, 2);
        using var model = new FirstPixelClassifier(1f);
        model.train(training);

        Validator.Evaluate(model, new DigitDataLoader(dataset, new DigitDataLoaderOptions { BatchSize = 4 }));

        model.ForwardModes.Should().OnlyContain(mode => !mode.Training && !mode.Grad);
        model.ForwardModes.Should().HaveCount(3);
        model.training.Should().Be(training);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Evaluate_OwnBatchSize_SameCountsAsTheLoadersBatches(bool shuffle, bool dropLast)
    {
        using var dataset = SyntheticDigits.Dataset(53, 4, 4);
        var loader = new DigitDataLoader(dataset, new DigitDataLoaderOptions { BatchSize = 8, Shuffle = shuffle, DropLast = dropLast, Seed = 3 });
        using var model = new FirstPixelClassifier(2f);

        var byLoader = Validator.Evaluate(model, loader);
        var byTwenty = Validator.Evaluate(model, loader, batchSize: 20);

        model.ForwardModes.Should().HaveCount(loader.BatchCount + ((loader.ImageCount + 19) / 20));
        byTwenty.Count.Should().Be(loader.ImageCount);
        byTwenty.ConfusionMatrix.Should().BeEquivalentTo(byLoader.ConfusionMatrix, o => o.WithStrictOrdering());
        byTwenty.Loss.Should().BeApproximately(byLoader.Loss, 1e-6);
    }

    [Fact]
    public void Evaluate_ModelWithWrongOutputWidth_ThrowsArgumentException()
    {
        using var dataset = SyntheticDigits.Dataset(10, 2, 2, new DigitDatasetOptions { ClassCount = 10 });
        using var model = new FirstPixelClassifier(1f, classes: 7);

        var act = () => Validator.Evaluate(model, new DigitDataLoader(dataset));

        act.Should().Throw<ArgumentException>().WithParameterName("model").WithMessage("*[10, 7]*10 classes*");
    }

    [Fact]
    public void Evaluate_Cancelled_ThrowsOperationCanceled()
    {
        using var dataset = SyntheticDigits.Dataset(10, 2, 2);
        using var model = new FirstPixelClassifier(1f);

        var act = () => Validator.Evaluate(model, new DigitDataLoader(dataset), new CancellationToken(canceled: true));

        act.Should().Throw<OperationCanceledException>();
    }

    /// <summary>Predicts class (first pixel * 255) mod classes with logit <c>confidence</c>, zero elsewhere.</summary>
    private sealed class FirstPixelClassifier : nn.Module<Tensor, Tensor>
    {
        private readonly int _classes;
        private readonly Parameter _confidence;

        public FirstPixelClassifier(float confidence, int classes = 10)
            : base(nameof(FirstPixelClassifier))
        {
            _classes = classes;
            _confidence = nn.Parameter(tensor(confidence));
            RegisterComponents();
        }

        public List<(bool Training, bool Grad)> ForwardModes { get; } = [];

        public override Tensor forward(Tensor input)
        {
            ForwardModes.Add((training, is_grad_enabled()));
            using var scope = NewDisposeScope();
            var predicted = input.flatten(1).select(1, 0).mul(255f).round().to(ScalarType.Int64).remainder(_classes);
            return nn.functional.one_hot(predicted, _classes).to(ScalarType.Float32).mul(_confidence).MoveToOuterDisposeScope();
        }
    }
}
