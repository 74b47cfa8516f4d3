using MnistCnn.Core.Models;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Models;

/// <summary>
/// Weights cross between PyTorch and MnistCnn.Core as safetensors files. PyTorch to us: a file written by
/// <c>tests/peer/interop.py write-reference</c> is committed as a fixture. Us to PyTorch: this test leaves
/// weights and logits in <c>artifacts/interop/</c>, which CI hands to <c>tests/peer/interop.py check-export</c>.
/// </summary>
[Collection(TorchGlobalState.Name)]
public sealed class PyTorchInteropTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch", name);

    [Fact]
    public void Load_WeightsSavedByPyTorch_EqualPyTorchsInitialisationForTheSameSeed()
    {
        using var loaded = new ConvNet(seed: 0);
        using var seeded = new ConvNet(seed: 7);

        ModelWeights.Load(loaded, Fixture("convnet-seed7.safetensors"));

        var expected = seeded.state_dict();
        foreach (var (name, tensor) in loaded.state_dict())
        {
            tensor.allclose(expected[name], rtol: 0, atol: 0).Should().BeTrue(name);
        }
    }

    [Fact]
    public void Save_TrainedWeights_WritesAFileAndLogitsForPyTorchToCheck()
    {
        var fixture = SafeTensorsFormat.Read(File.ReadAllBytes(Fixture("convnet-adam.safetensors")), "fixture");
        try
        {
            using var model = new ConvNet(seed: 3);
            using (var optimizer = optim.Adam(model.parameters(), 0.01))
            using (var scope = NewDisposeScope())
            {
                nn.functional.cross_entropy(model.call(fixture["batch0.images"]), fixture["batch0.labels"]).backward();
                optimizer.step();
            }

            var folder = Path.Combine(RepositoryFolder.Root, "artifacts", "interop");
            var weights = Path.Combine(folder, "convnet.safetensors");
            ModelWeights.Save(model, weights);
            using (var noGrad = no_grad())
            using (var logits = model.call(fixture["batch1.images"]))
            {
                File.WriteAllBytes(
                    Path.Combine(folder, "batch.safetensors"),
                    SafeTensorsFormat.Write([new("images", fixture["batch1.images"]), new("logits", logits)]));
            }

            using var reloaded = new ConvNet(seed: 0);
            ModelWeights.Load(reloaded, weights);
            var expected = model.state_dict();
            foreach (var (name, tensor) in reloaded.state_dict())
            {
                tensor.allclose(expected[name], rtol: 0, atol: 0).Should().BeTrue(name);
            }
        }
        finally
        {
            foreach (var tensor in fixture.Values)
            {
                tensor.Dispose();
            }
        }
    }
}
