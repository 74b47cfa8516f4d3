namespace MnistCnn.Samples.Web.Tests;

/// <summary>Start-up settings: a bad limit or model file stops the app before it listens, naming what is wrong.</summary>
public sealed class DigitWebAppTests
{
    [Theory]
    [InlineData("--Limits:MaxBodyBytes", "0", "Limits:MaxBodyBytes must be positive")]
    [InlineData("--Limits:MaxSide", "-1", "Limits:MaxSide must be positive")]
    [InlineData("--Limits:MaxPixels", "200000000", "Limits:MaxPixels must be between 1 and 134217728")]
    [InlineData("--Limits:MaxConnections", "0", "Limits:MaxConnections must be positive")]
    [InlineData("--Limits:MaxDecodingPixels", "1000000", "Limits:MaxDecodingPixels must be at least Limits:MaxPixels (16777216)")]
    [InlineData("--Limits:MaxRequestBytes", "4194304", "Limits:MaxRequestBytes must be at least Limits:MaxBodyBytes + 65536 (4259840)")]
    [InlineData("--Limits:MaxRequestBytes", "10000000", "Limits:MaxRequestBytes must be at least Limits:MaxBatchBytes (16777216)")]
    [InlineData("--Limits:MaxBatchImages", "0", "Limits:MaxBatchImages must be positive")]
    [InlineData("--Limits:MaxBatchBytes", "-5", "Limits:MaxBatchBytes must be positive")]
    [InlineData("--Limits:MaxRequestTargetBytes", "100", "Limits:MaxRequestTargetBytes must be between 256 and 1048576")]
    [InlineData("--Limits:MaxRequestHeaderBytes", "100", "Limits:MaxRequestHeaderBytes must be between 1024 and 1048576")]
    [InlineData("--Limits:MaxRequestHeaderCount", "2", "Limits:MaxRequestHeaderCount must be between 8 and 10000")]
    [InlineData("--Service:RatePerSecond", "-1", "Service:RatePerSecond must be 0 (off) or positive")]
    [InlineData("--Service:RateBurst", "0", "Service:RateBurst must be positive")]
    [InlineData("--Service:ModelPollSeconds", "0", "Service:ModelPollSeconds must be between 0.05 and 3600")]
    [InlineData("--Service:SummarySeconds", "0.5", "Service:SummarySeconds must be between 1 and 86400")]
    public void Create_LimitOutOfRange_ThrowsNamingTheSetting(string setting, string value, string message)
    {
        var create = () => DigitWebApp.Create(["--urls", "http://127.0.0.1:0", setting, value]);

        create.Should().Throw<InvalidOperationException>().WithMessage($"{message}*");
    }

    [Fact]
    public void Create_MissingModelFile_ThrowsFileNotFoundNamingIt()
    {
        var path = Path.Combine(Path.GetTempPath(), $"no-such-model-{Guid.NewGuid():N}.safetensors");

        var create = () => DigitWebApp.Create(["--urls", "http://127.0.0.1:0", "--model", path]);

        create.Should().Throw<FileNotFoundException>().WithMessage($"*{path}*");
    }
}
