using TorchSharp;

namespace MnistCnn.Core.Tests.Support;

/// <summary>Compares two models' state, tensor by tensor, bit for bit.</summary>
internal static class Weights
{
    /// <summary>Whether every tensor of <paramref name="a"/>'s state equals <paramref name="b"/>'s exactly.</summary>
    public static bool Identical(torch.nn.Module a, torch.nn.Module b)
    {
        var other = b.state_dict();
        return a.state_dict().All(p => p.Value.allclose(other[p.Key], rtol: 0, atol: 0));
    }

    /// <summary>Asserts that every tensor of <paramref name="a"/>'s state equals <paramref name="b"/>'s exactly, naming the first that does not.</summary>
    public static void AssertIdentical(torch.nn.Module a, torch.nn.Module b)
    {
        var other = b.state_dict();
        foreach (var (name, tensor) in a.state_dict())
        {
            tensor.allclose(other[name], rtol: 0, atol: 0).Should().BeTrue($"{name} should be identical");
        }
    }
}
