using TorchSharp;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Native;

/// <summary>Proves that the native libtorch backend loads and computes forward and backward passes.</summary>
public sealed class LibTorchSmokeTests
{
    [Fact]
    public void Conv2d_ForwardAndBackward_MatchHandComputedValues()
    {
        using var scope = NewDisposeScope();

        // x = 0..15 as a 4x4 image; a 3x3 all-ones kernel sums each window.
        var x = arange(16, dtype: float32).reshape(1, 1, 4, 4).requires_grad_();
        var weight = ones(1, 1, 3, 3, dtype: float32).requires_grad_();
        var bias = zeros(1, dtype: float32).requires_grad_();

        var y = nn.functional.conv2d(x, weight, bias);
        y.shape.Should().Equal(1, 1, 2, 2);
        y.flatten().data<float>().ToArray().Should().Equal(45f, 54f, 81f, 90f);

        y.sum().backward();

        // dL/dw[i,j] = sum of the 2x2 block of x at (i,j) = 16i + 4j + 10.
        var expectedWeightGrad = new float[9];
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                expectedWeightGrad[(i * 3) + j] = (16 * i) + (4 * j) + 10;
            }
        }

        weight.grad!.flatten().data<float>().ToArray().Should().Equal(expectedWeightGrad);
        bias.grad!.item<float>().Should().Be(4f);

        // dL/dx counts the windows covering each pixel: corners 1, edges 2, centre 4.
        x.grad!.flatten().data<float>().ToArray().Should().Equal(
            1f, 2f, 2f, 1f,
            2f, 4f, 4f, 2f,
            2f, 4f, 4f, 2f,
            1f, 2f, 2f, 1f);
    }
}
