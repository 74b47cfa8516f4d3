using MnistCnn.Core.Models;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Support;

/// <summary>
/// A reference file written by a tests/peer script (<c>Fixtures/pytorch/*.safetensors</c>): tensors named
/// <c>init.&lt;param&gt;</c>, <c>grad0.&lt;param&gt;</c>, <c>step1.&lt;param&gt;</c>, ..., and what compares a module with them.
/// </summary>
internal sealed class PyTorchFixture : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;

    public PyTorchFixture(string fileName) =>
        _tensors = SafeTensorsFormat.Read(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch", fileName)), fileName);

    public Tensor this[string name] => _tensors[name];

    /// <summary>The largest absolute difference between two tensors of the same shape.</summary>
    public static double MaxDifference(Tensor actual, Tensor expected)
    {
        using var difference = actual.detach().sub(expected).abs().max();
        return difference.item<float>();
    }

    /// <summary>Gives <paramref name="model"/>'s named parameters the fixture's <c>init.</c> values and returns it.</summary>
    public TModel WithInitialWeights<TModel>(TModel model, IEnumerable<string> parameters)
        where TModel : nn.Module
    {
        using var noGrad = no_grad();
        var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var name in parameters)
        {
            named[name].copy_(_tensors["init." + name]);
        }

        return model;
    }

    /// <summary>Asserts that <paramref name="model"/> gives the fixture's <c>batch0.logits</c> and <c>batch0.loss</c> for <c>batch0</c>, within <paramref name="tolerance"/>.</summary>
    public void AssertForwardMatches(nn.Module<Tensor, Tensor> model, double tolerance)
    {
        using var scope = NewDisposeScope();
        var logits = model.call(_tensors["batch0.images"]);
        var loss = nn.functional.cross_entropy(logits, _tensors["batch0.labels"]);

        MaxDifference(logits, _tensors["batch0.logits"]).Should().BeLessThan(tolerance);
        ((double)Math.Abs(loss.item<float>() - _tensors["batch0.loss"].item<float>())).Should().BeLessThan(tolerance);
    }

    /// <summary>Asserts that the loss of <c>batch0</c> gives <paramref name="model"/> the fixture's <c>grad0.</c> gradients, within <paramref name="tolerance"/>.</summary>
    public void AssertGradientsMatch(nn.Module<Tensor, Tensor> model, IEnumerable<string> parameters, double tolerance)
    {
        using var scope = NewDisposeScope();
        nn.functional.cross_entropy(model.call(_tensors["batch0.images"]), _tensors["batch0.labels"]).backward();

        AssertMatches(model, parameters, "grad0.", tolerance, gradients: true);
    }

    /// <summary>Asserts that each named parameter (or, with <paramref name="gradients"/>, its gradient) is within <paramref name="tolerance"/> of <c>prefix + name</c>.</summary>
    public void AssertMatches(nn.Module model, IEnumerable<string> parameters, string prefix, double tolerance, bool gradients = false)
    {
        var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var name in parameters)
        {
            var actual = gradients ? named[name].grad! : named[name];
            MaxDifference(actual, _tensors[prefix + name]).Should().BeLessThanOrEqualTo(tolerance, prefix + name);
        }
    }

    public void Dispose()
    {
        foreach (var tensor in _tensors.Values)
        {
            tensor.Dispose();
        }
    }
}
