using MnistCnn.Core.Data;
using MnistCnn.Core.Evaluation;
using MnistCnn.Core.Models;

namespace MnistCnn.Core.Tests.Evaluation;

[Collection(TorchGlobalState.Name)]
public sealed class ValidatorAugmentationTests
{
    [Fact]
    public void Evaluate_LoaderWithAugmentation_DoesNotAugment()
    {
        using var test = LearnableDigits.Make(48, seed: 4);
        using var model = new ConvNet(seed: 2);
        var strong = new DigitAugmentation { MaxShift = 6, MaxRotationDegrees = 45, MinScale = 0.6, MaxScale = 1.4 };

        var plain = Validator.Evaluate(model, new DigitDataLoader(test, new DigitDataLoaderOptions { BatchSize = 16 }));
        var withAugmentation = Validator.Evaluate(model, new DigitDataLoader(test, new DigitDataLoaderOptions { BatchSize = 16, Augmentation = strong }));
        var chunked = Validator.Evaluate(model, new DigitDataLoader(test, new DigitDataLoaderOptions { BatchSize = 16, Augmentation = strong }), batchSize: 10);

        withAugmentation.Loss.Should().Be(plain.Loss);
        withAugmentation.ConfusionMatrix.Should().BeEquivalentTo(plain.ConfusionMatrix);
        chunked.Accuracy.Should().Be(plain.Accuracy);
    }
}
