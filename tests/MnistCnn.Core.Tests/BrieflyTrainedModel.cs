using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests;

/// <summary>
/// A ConvNet trained for one epoch as the case study does (938 Adam steps: batch 64 in order, lr 0.01, seed 0)
/// on the real MNIST training split: a working classifier (89.06% on the test split after the case study's
/// first epoch) for tests that need one, made once per test run.
/// Tests that use it belong to the <see cref="TorchGlobalState"/> collection and must not change it.
/// </summary>
internal static class BrieflyTrainedModel
{
    private static readonly Lazy<ConvNet> Model = new(Train);

    public static ConvNet Value => Model.Value;

    private static ConvNet Train()
    {
        using var train = MnistDataset.Load(RealMnistFolder.Path, MnistSplit.Train);
        var model = new ConvNet(seed: 0);
        using var optimizer = optim.Adam(model.parameters(), 0.01);
        for (var start = 0; start < train.Count; start += 64)
        {
            using var scope = NewDisposeScope();
            using var batch = train.GetBatch(start, Math.Min(64, train.Count - start));
            optimizer.zero_grad();
            nn.functional.cross_entropy(model.call(batch.Images), batch.Labels).backward();
            optimizer.step();
        }

        model.eval();
        return model;
    }
}
