using MnistCnn.Core.Data.Download;
using MnistCnn.Core.Data;

namespace MnistCnn.Core.Tests.Data.Download;

public sealed class MnistDownloadOptionsTests
{
    [Fact]
    public void Constructor_Defaults_MatchTheDocumentedValues()
    {
        var options = new MnistDownloadOptions();

        options.Mirrors.Should().BeNull("null selects the mirrors of the data set being fetched");
        MnistDownloadOptions.DefaultMirrors.Should().Equal("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/");
        options.RequestTimeout.Should().Be(TimeSpan.FromSeconds(60));
        options.RetriesPerMirror.Should().Be(2);
        options.RetryDelay.Should().Be(TimeSpan.FromSeconds(1));
        options.HttpClient.Should().BeNull();
        options.HttpMessageHandler.Should().BeNull();
    }

    [Fact]
    public void Mirrors_SetToMixedKinds_KeepsThemInOrder()
    {
        string[] mirrors = ["https://example.test/mnist/", "file:///srv/mnist/", "relative/folder", "/abs/folder"];

        var options = new MnistDownloadOptions { Mirrors = mirrors };

        options.Mirrors.Should().Equal(mirrors);
    }

    [Fact]
    public void Mirrors_CallerChangesListAfterSetting_OptionsKeepTheirCopy()
    {
        var mirrors = new List<string> { "https://example.test/mnist/" };
        var options = new MnistDownloadOptions { Mirrors = mirrors };

        mirrors[0] = "ftp://not-allowed/";

        options.Mirrors.Should().Equal("https://example.test/mnist/");
    }

    [Fact]
    public void Mirrors_SetBackToNull_SelectsTheDataSetsMirrorsAgain()
    {
        var options = new MnistDownloadOptions { Mirrors = ["https://example.test/mnist/"] };

        options.Mirrors = null;

        options.Mirrors.Should().BeNull();
    }

    [Theory]
    [MemberData(nameof(InvalidMirrorLists))]
    public void Mirrors_SetToInvalidList_ThrowsArgumentException(string[] mirrors)
    {
        var act = () => new MnistDownloadOptions { Mirrors = mirrors };

        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("value");
    }

    public static TheoryData<string[]> InvalidMirrorLists()
    {
        var lists = new TheoryData<string[]>();
        lists.Add([]);
        lists.Add(["https://example.test/", " "]);
        lists.Add(["ftp://example.test/mnist/"]);
        lists.Add([null!]);
        return lists;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void RequestTimeout_SetToZeroOrNegative_ThrowsArgumentOutOfRangeException(int milliseconds)
    {
        // -1 ms is Timeout.InfiniteTimeSpan, which is allowed, hence -5.
        var act = () => new MnistDownloadOptions { RequestTimeout = TimeSpan.FromMilliseconds(milliseconds) };

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("value");
    }

    [Fact]
    public void RequestTimeout_SetToInfinite_IsAccepted()
    {
        var options = new MnistDownloadOptions { RequestTimeout = Timeout.InfiniteTimeSpan };

        options.RequestTimeout.Should().Be(Timeout.InfiniteTimeSpan);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(MnistDownloadOptions.MaxRetriesPerMirror + 1)]
    public void RetriesPerMirror_SetOutOfRange_ThrowsArgumentOutOfRangeException(int retries)
    {
        var act = () => new MnistDownloadOptions { RetriesPerMirror = retries };

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("value");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(301)]
    public void RetryDelay_SetOutOfRange_ThrowsArgumentOutOfRangeException(int seconds)
    {
        var act = () => new MnistDownloadOptions { RetryDelay = TimeSpan.FromSeconds(seconds) };

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("value");
    }

    [Fact]
    public void RetryDelay_SetToZero_IsAccepted()
    {
        var options = new MnistDownloadOptions { RetryDelay = TimeSpan.Zero };

        options.RetryDelay.Should().Be(TimeSpan.Zero);
    }
}
