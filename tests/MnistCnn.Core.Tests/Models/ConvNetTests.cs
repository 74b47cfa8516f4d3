using MnistCnn.Core.Models;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Models;

[Collection(TorchGlobalState.Name)]
public sealed class ConvNetTests
{
    [Fact]
    public void Forward_Batch_ReturnsTenLogitsPerImage()
    {
        using var model = new ConvNet();
        using var input = rand(5, 1, 28, 28);

        using var logits = model.call(input);

        logits.shape.Should().Equal(5, 10);
    }

    [Fact]
    public void Parameters_Count_IsTheCaseStudys()
    {
        using var model = new ConvNet();

        model.parameters().Sum(p => p.numel()).Should().Be(ConvNet.ParameterCount).And.Be(34_768);
    }

    [Fact]
    public void StateDict_Keys_MatchThePyTorchModule()
    {
        using var model = new ConvNet();

        var shapes = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);

        shapes.Keys.Should().Equal("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "linear1.weight", "linear1.bias");
        shapes["conv1.weight"].Should().Equal(3, 1, 3, 3);
        shapes["conv2.weight"].Should().Equal(6, 3, 3, 3);
        shapes["linear1.weight"].Should().Equal(10, 3456);
        shapes["linear1.bias"].Should().Equal(10);
    }

    [Theory]
    [InlineData(new long[] { 2, 28, 28 })]
    [InlineData(new long[] { 2, 3, 28, 28 })]
    [InlineData(new long[] { 2, 1, 32, 32 })]
    public void Forward_WrongShape_ThrowsNamingTheExpectedShape(long[] shape)
    {
        using var model = new ConvNet();
        using var input = zeros(shape);

        var act = () => model.call(input);

        act.Should().Throw<ArgumentException>().WithMessage("*[N, 1, 28, 28]*got [*");
    }

    [Fact]
    public void Constructor_SameSeed_GivesSameWeights()
    {
        using var a = new ConvNet(seed: 3);
        using var b = new ConvNet(seed: 3);
        using var c = new ConvNet(seed: 4);

        a.state_dict()["linear1.weight"].allclose(b.state_dict()["linear1.weight"], rtol: 0, atol: 0).Should().BeTrue();
        a.state_dict()["linear1.weight"].allclose(c.state_dict()["linear1.weight"], rtol: 0, atol: 0).Should().BeFalse();
    }

    [Fact]
    public void Forward_IsConvSigmoidConvSigmoidLinear()
    {
        using var model = new ConvNet(seed: 1);
        using var scope = NewDisposeScope();
        var p = model.state_dict();
        var x = rand(2, 1, 28, 28);

        var expected = nn.functional.linear(
            nn.functional.conv2d(nn.functional.conv2d(x, p["conv1.weight"], p["conv1.bias"]).sigmoid(), p["conv2.weight"], p["conv2.bias"]).sigmoid().flatten(1),
            p["linear1.weight"],
            p["linear1.bias"]);

        model.call(x).allclose(expected, rtol: 0, atol: 1e-6).Should().BeTrue();
    }
}
