using System.Text.Json.Nodes;

namespace MnistCnn.Core.Tests.Training;

/// <summary>PyTorch's learning rates and optimizer results, written by tests/peer/make_optim_fixture.py.</summary>
internal static class PyTorchOptimFixture
{
    private static readonly Lazy<JsonObject> Root = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch", "optim.json")))!.AsObject());

    public static double[] Scheduler(string name) => Values(Root.Value["schedulers"]![name]!);

    public static double[] Optimizer(string name) => Values(Root.Value["optimizers"]![name]!);

    private static double[] Values(JsonNode node) => [.. node.AsArray().Select(v => v!.GetValue<double>())];
}
