using MnistCnn.Core.Engine;

namespace MnistCnn.Core.Tests.Engine;

[Collection(VectorWidthState.Name)]
public sealed class VectorWidthTests
{
    [Fact]
    public void Limit_Disposed_RestoresThePreviousWidth()
    {
        var widest = VectorWidth.Bits;

        using (VectorWidth.Limit(128))
        {
            VectorWidth.Bits.Should().Be(Math.Min(128, VectorWidth.HardwareBits));
            using (VectorWidth.Limit(0))
            {
                VectorWidth.Bits.Should().Be(0);
            }

            VectorWidth.Bits.Should().Be(Math.Min(128, VectorWidth.HardwareBits));
        }

        VectorWidth.Bits.Should().Be(widest);
    }

    [Fact]
    public void Bits_NoLimit_IsTheHardwareWidth()
    {
        VectorWidth.Bits.Should().Be(VectorWidth.HardwareBits);
        VectorWidth.HardwareBits.Should().BeOneOf(512, 256, 128, 0);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(-1)]
    [InlineData(1024)]
    public void Limit_UnknownWidth_Throws(int bits)
    {
        var act = () => VectorWidth.Limit(bits);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName(nameof(bits));
    }
}
