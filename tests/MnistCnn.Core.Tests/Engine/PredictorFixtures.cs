using MnistCnn.Core.Engine;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Inference;

namespace MnistCnn.Core.Tests.Engine;

/// <summary>The networks and real test images the predictor tests run on.</summary>
internal static class PredictorFixtures
{
    /// <summary>
    /// The weights of <paramref name="network"/> ("LeNet": the shipped model; "LeNet seed 0" and "SpeedrunNet": freshly
    /// initialised with seed 0) and the first <paramref name="count"/> MNIST test images scaled to [0, 1].
    /// </summary>
    public static (NetworkWeights Weights, float[] Images) Setup(string network, int count)
    {
        NetworkWeights weights;
        if (network == "LeNet")
        {
            weights = DigitClassifier.Pretrained(PretrainedModel.Best).Weights;
        }
        else if (network == "LeNet seed 0")
        {
            using var model = new LeNet(seed: 0);
            weights = DigitClassifier.FromModel(model).Weights;
        }
        else
        {
            using var model = new SpeedrunNet(seed: 0);
            weights = DigitClassifier.FromModel(model).Weights;
        }

        var test = RealMnistImages.Test;
        var images = new float[count * 784];
        for (var i = 0; i < images.Length; i++)
        {
            images[i] = test.Pixels[i] / 255f;
        }

        return (weights, images);
    }
}
