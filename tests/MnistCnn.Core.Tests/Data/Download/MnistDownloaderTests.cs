using System.Net;
using Microsoft.Extensions.Logging;
using MnistCnn.Core.Data;
using MnistCnn.Core.Data.Download;
using MnistCnn.Core.Tests.Support;

namespace MnistCnn.Core.Tests.Data.Download;

public sealed class MnistDownloaderTests : IDisposable
{
    private const string FirstFile = "train-images-idx3-ubyte";

    // Long enough never to fire where a test does not mean it to; the slow-mirror tests use StallTimeout.
    private static readonly TimeSpan GenerousTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StallTimeout = TimeSpan.FromMilliseconds(500);

    private readonly SyntheticMnist _data = new();
    private readonly TempDirectory _target = new();

    public void Dispose() => _target.Dispose();

    [Fact]
    public async Task DownloadAsync_AllFilesOnMirror_StoresVerifiedDecompressedFilesOnly()
    {
        await using var server = new LocalHttpServer();
        _data.ServeAll(server);

        var result = await CreateDownloader(server.BaseUrl).DownloadAsync(_target.Path);

        result.Directory.Should().Be(_target.Path);
        result.DownloadedFiles.Should().Equal(SyntheticMnist.Names);
        result.ExistingFiles.Should().BeEmpty();
        _target.Entries().Should().BeEquivalentTo(SyntheticMnist.Names, "no .gz or temporary file may remain");
        ShouldHoldPlainFiles(_target);
    }

    [Fact]
    public async Task DownloadAsync_TargetFolderMissing_CreatesIt()
    {
        await using var server = new LocalHttpServer();
        _data.ServeAll(server);
        var nested = Path.Combine(_target.Path, "a", "b");

        await CreateDownloader(server.BaseUrl).DownloadAsync(nested);

        Directory.EnumerateFiles(nested).Select(Path.GetFileName).Should().BeEquivalentTo(SyntheticMnist.Names);
    }

    [Fact]
    public async Task DownloadAsync_FilesPresentAndVerified_DownloadsNothing()
    {
        await using var server = new LocalHttpServer();
        _data.ServeAll(server);
        _data.WritePlainFiles(_target.Path);

        var result = await CreateDownloader(server.BaseUrl).DownloadAsync(_target.Path);

        result.DownloadedFiles.Should().BeEmpty();
        result.ExistingFiles.Should().Equal(SyntheticMnist.Names);
        server.TotalRequests.Should().Be(0);
        ShouldHoldPlainFiles(_target);
    }

    [Fact]
    public async Task DownloadAsync_FilePresentButWrong_DownloadsItAgain()
    {
        await using var server = new LocalHttpServer();
        _data.ServeAll(server);
        _data.WritePlainFiles(_target.Path);
        File.WriteAllBytes(_target.File(FirstFile), [1, 2, 3]);

        var result = await CreateDownloader(server.BaseUrl).DownloadAsync(_target.Path);

        result.DownloadedFiles.Should().Equal(FirstFile);
        server.RequestCount(FirstFile + ".gz").Should().Be(1);
        server.TotalRequests.Should().Be(1);
        ShouldHoldPlainFiles(_target);
    }

    [Fact]
    public async Task DownloadAsync_FirstMirrorReturns404_FallsBackToSecondMirror()
    {
        await using var missing = new LocalHttpServer();
        await using var good = new LocalHttpServer();
        _data.ServeAll(good);

        await CreateDownloader(missing.BaseUrl, good.BaseUrl).DownloadAsync(_target.Path);

        missing.RequestCount(FirstFile + ".gz").Should().Be(1);
        good.TotalRequests.Should().Be(4);
        ShouldHoldPlainFiles(_target);
    }

    [Fact]
    public async Task DownloadAsync_NotFoundWithRetriesAllowed_DoesNotRetry()
    {
        await using var missing = new LocalHttpServer();
        await using var good = new LocalHttpServer();
        _data.ServeAll(good);

        await CreateDownloader([missing.BaseUrl, good.BaseUrl], retries: 2).DownloadAsync(_target.Path);

        missing.RequestCount(FirstFile + ".gz").Should().Be(1, "a 404 is permanent");
        ShouldHoldPlainFiles(_target);
    }

    [Fact]
    public async Task DownloadAsync_FirstMirrorServesCorruptFile_FallsBackToSecondMirror()
    {
        await using var corrupt = new LocalHttpServer();
        await using var good = new LocalHttpServer();
        foreach (var name in SyntheticMnist.Names)
        {
            corrupt.Serve(name + ".gz", new Reply.Ok(_data.CorruptGzip(name)));
        }

        _data.ServeAll(good);

        await CreateDownloader(corrupt.BaseUrl, good.BaseUrl).DownloadAsync(_target.Path);

        corrupt.TotalRequests.Should().Be(4);
        good.TotalRequests.Should().Be(4);
        _target.Entries().Should().BeEquivalentTo(SyntheticMnist.Names);
        ShouldHoldPlainFiles(_target);
    }

    [Fact]
    public async Task DownloadAsync_FirstMirrorServesTruncatedGzip_FallsBackToSecondMirror()
    {
        await using var truncated = new LocalHttpServer();
        await using var good = new LocalHttpServer();
        foreach (var name in SyntheticMnist.Names)
        {
            // A complete HTTP response whose body is only the start of the .gz.
            truncated.Serve(name + ".gz", new Reply.Ok(_data.Gzip[name][..100]));
        }

        _data.ServeAll(good);

        await CreateDownloader(truncated.BaseUrl, good.BaseUrl).DownloadAsync(_target.Path);

        good.TotalRequests.Should().Be(4);
        _target.Entries().Should().BeEquivalentTo(SyntheticMnist.Names);
        ShouldHoldPlainFiles(_target);
    }

    [Fact]
    public async Task DownloadAsync_FirstMirrorClosesConnectionMidBody_FallsBackToSecondMirror()
    {
        await using var cutOff = new LocalHttpServer();
        await using var good = new LocalHttpServer();
        foreach (var name in SyntheticMnist.Names)
        {
            cutOff.Serve(name + ".gz", new Reply.Truncated(_data.Gzip[name], 100));
        }

        _data.ServeAll(good);

        await CreateDownloader(cutOff.BaseUrl, good.BaseUrl).DownloadAsync(_target.Path);

        good.TotalRequests.Should().Be(4);
        _target.Entries().Should().BeEquivalentTo(SyntheticMnist.Names);
        ShouldHoldPlainFiles(_target);
    }

    [Fact]
    public async Task DownloadAsync_FirstMirrorSendsNothing_TimesOutAndFallsBackToSecondMirror()
    {
        await using var silent = new LocalHttpServer();
        silent.Serve(FirstFile + ".gz", new Reply.Stall());
        using var good = new TempDirectory();
        _data.WriteGzipFiles(good.Path);

        // The fallback is a local folder, which the request timeout does not govern, so only the silent
        // mirror depends on it. The other files are 404s there: the test waits for one timeout, not four.
        var log = new ListLogger<MnistDownloader>();
        await CreateDownloader([silent.BaseUrl, good.Path], timeout: StallTimeout, logger: log).DownloadAsync(_target.Path);

        // On a loaded machine the client can give up before its request reaches the server, so the attempt is read
        // from the downloader's log; the server never sees more than the one attempt (no retries configured).
        log.Entries.Should().ContainSingle(e => e.EventId.Name == "MnistFileAttemptFailed" && e.Message.Contains(FirstFile))
            .Which.Message.Should().Contain(silent.BaseUrl).And.Contain("timed out");
        silent.RequestCount(FirstFile + ".gz").Should().BeLessThanOrEqualTo(1);
        _target.Entries().Should().BeEquivalentTo(SyntheticMnist.Names);
        ShouldHoldPlainFiles(_target);
    }

    [Fact]
    public async Task DownloadAsync_OnlyMirrorStallsMidBody_FailsWithTimeoutAndLeavesNoFile()
    {
        await using var stalling = new LocalHttpServer();
        stalling.Serve(FirstFile + ".gz", new Reply.Stall(_data.Gzip[FirstFile], 100));

        var act = () => CreateDownloader([stalling.BaseUrl], retries: 1, timeout: StallTimeout).DownloadAsync(_target.Path);

        var failure = (await act.Should().ThrowAsync<MnistDownloadException>()).Which.Failures.Should().ContainSingle().Subject;
        failure.Reason.Should().Contain("timed out");
        failure.Attempts.Should().Be(2, "a timeout is transient, so the mirror is retried");
        stalling.RequestCount(FirstFile + ".gz").Should().Be(2);
        _target.Entries().Should().BeEmpty("the partly received .gz must be deleted");
    }

    [Fact]
    public async Task DownloadAsync_TransientServerError_RetriesSameMirror()
    {
        await using var flaky = new LocalHttpServer();
        foreach (var name in SyntheticMnist.Names)
        {
            var gzip = _data.Gzip[name];
            flaky.Serve(name + ".gz", request => request == 1 ? new Reply.StatusOnly(503, "Service Unavailable") : new Reply.Ok(gzip));
        }

        var result = await CreateDownloader([flaky.BaseUrl], retries: 1).DownloadAsync(_target.Path);

        result.DownloadedFiles.Should().Equal(SyntheticMnist.Names);
        flaky.RequestCount(FirstFile + ".gz").Should().Be(2);
        ShouldHoldPlainFiles(_target);
    }

    [Fact]
    public async Task DownloadAsync_AllMirrorsFail_ThrowsListingEveryMirrorAndLeavesNoFile()
    {
        await using var missing = new LocalHttpServer();
        await using var corrupt = new LocalHttpServer();
        await using var flaky = new LocalHttpServer();
        corrupt.Serve(FirstFile + ".gz", new Reply.Ok(_data.CorruptGzip(FirstFile)));
        flaky.Serve(FirstFile + ".gz", new Reply.StatusOnly(503, "Service Unavailable"));
        using var emptyFolder = new TempDirectory();
        string[] mirrors = [missing.BaseUrl, corrupt.BaseUrl, flaky.BaseUrl, emptyFolder.Path];

        var act = () => CreateDownloader(mirrors, retries: 1).DownloadAsync(_target.Path);

        var error = (await act.Should().ThrowAsync<MnistDownloadException>()).Which;
        error.FileName.Should().Be(FirstFile);
        error.Directory.Should().Be(_target.Path);
        error.Failures.Select(f => f.Mirror).Should().Equal(mirrors);
        error.Failures[0].Reason.Should().Contain("HTTP 404");
        error.Failures[1].Reason.Should().Contain("MD5 mismatch");
        error.Failures[2].Reason.Should().Contain("HTTP 503");
        error.Failures[2].Attempts.Should().Be(2);
        error.Failures[3].Reason.Should().Contain("not found");
        foreach (var mirror in mirrors)
        {
            error.Message.Should().Contain(mirror);
        }

        error.Message.Should().Contain("by hand").And.Contain(_target.Path).And.Contain(FirstFile + ".gz");
        _target.Entries().Should().BeEmpty("neither a final nor a temporary file may remain");
    }

    [Fact]
    public async Task DownloadAsync_CancelledMidDownload_ThrowsAndLeavesNoFile()
    {
        await using var stalling = new LocalHttpServer();
        stalling.Serve(FirstFile + ".gz", new Reply.Stall(_data.Gzip[FirstFile], 100));
        using var cancellation = new CancellationTokenSource();
        var progress = new SynchronousProgress<MnistDownloadProgress>(p =>
        {
            if (p.BytesReceived > 0)
            {
                cancellation.Cancel();
            }
        });

        var act = () => CreateDownloader(stalling.BaseUrl).DownloadAsync(_target.Path, progress, cancellation.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        _target.Entries().Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_AlreadyCancelled_ThrowsWithoutRequest()
    {
        await using var server = new LocalHttpServer();
        _data.ServeAll(server);

        var act = () => CreateDownloader(server.BaseUrl).DownloadAsync(_target.Path, cancellationToken: new CancellationToken(canceled: true));

        await act.Should().ThrowAsync<OperationCanceledException>();
        server.TotalRequests.Should().Be(0);
        _target.Entries().Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_FileUriMirrorWithGzipFiles_StoresVerifiedFiles()
    {
        using var mirror = new TempDirectory();
        _data.WriteGzipFiles(mirror.Path);
        var fileUri = new Uri(mirror.Path + Path.DirectorySeparatorChar).AbsoluteUri;
        fileUri.Should().StartWith("file://");

        var result = await CreateDownloader(fileUri).DownloadAsync(_target.Path);

        result.DownloadedFiles.Should().Equal(SyntheticMnist.Names);
        _target.Entries().Should().BeEquivalentTo(SyntheticMnist.Names);
        ShouldHoldPlainFiles(_target);
    }

    [Fact]
    public async Task DownloadAsync_LocalFolderMirrorWithPlainFiles_StoresVerifiedFiles()
    {
        using var mirror = new TempDirectory();
        _data.WritePlainFiles(mirror.Path);

        var result = await CreateDownloader(mirror.Path).DownloadAsync(_target.Path);

        result.DownloadedFiles.Should().Equal(SyntheticMnist.Names);
        _target.Entries().Should().BeEquivalentTo(SyntheticMnist.Names);
        ShouldHoldPlainFiles(_target);
    }

    [Fact]
    public async Task DownloadAsync_LocalFolderMirrorWithWrongPlainFile_FallsBackToNextMirror()
    {
        using var wrong = new TempDirectory();
        using var good = new TempDirectory();
        _data.WritePlainFiles(wrong.Path);
        File.WriteAllBytes(wrong.File(FirstFile), [9, 9, 9]);
        _data.WriteGzipFiles(good.Path);

        await CreateDownloader(wrong.Path, good.Path).DownloadAsync(_target.Path);

        _target.Entries().Should().BeEquivalentTo(SyntheticMnist.Names);
        ShouldHoldPlainFiles(_target);
    }

    [Fact]
    public async Task DownloadAsync_GzipPlacedByHandInTarget_DecompressesItWithoutMirror()
    {
        await using var server = new LocalHttpServer();
        _data.WriteGzipFiles(_target.Path);

        var result = await CreateDownloader(server.BaseUrl).DownloadAsync(_target.Path);

        result.DownloadedFiles.Should().Equal(SyntheticMnist.Names);
        server.TotalRequests.Should().Be(0);
        _target.Entries().Should().BeEquivalentTo(SyntheticMnist.Names.Concat(SyntheticMnist.Names.Select(n => n + ".gz")));
        ShouldHoldPlainFiles(_target);
    }

    [Fact]
    public async Task DownloadAsync_WithProgress_ReportsGrowingBytesUpToTotalForEveryFile()
    {
        await using var server = new LocalHttpServer();
        _data.ServeAll(server);
        var reports = new List<MnistDownloadProgress>();

        await CreateDownloader(server.BaseUrl).DownloadAsync(_target.Path, new SynchronousProgress<MnistDownloadProgress>(reports.Add));

        reports.Select(r => r.FileName).Distinct().Should().Equal(SyntheticMnist.Names);
        reports.Should().OnlyContain(r => r.Mirror == server.BaseUrl);
        foreach (var name in SyntheticMnist.Names)
        {
            var forFile = reports.Where(r => r.FileName == name).ToList();
            var total = _data.Gzip[name].Length;
            forFile.Select(r => r.BytesReceived).Should().BeInAscendingOrder();
            forFile.Should().OnlyContain(r => r.TotalBytes == total);
            forFile[^1].BytesReceived.Should().Be(total);
        }
    }

    [Fact]
    public async Task DownloadAsync_WithHttpMessageHandler_SendsRequestsThroughIt()
    {
        using var handler = new InMemoryHandler(_data);
        var options = new MnistDownloadOptions { Mirrors = ["https://mirror.invalid/mnist/"], HttpMessageHandler = handler };

        await new MnistDownloader(options, null, _data.Dataset).DownloadAsync(_target.Path);

        handler.RequestedUris.Should().Equal(SyntheticMnist.Names.Select(n => new Uri($"https://mirror.invalid/mnist/{n}.gz")));
        ShouldHoldPlainFiles(_target);
    }

    [Fact]
    public async Task DownloadAsync_WithHttpClient_UsesItAndLeavesItUsable()
    {
        using var handler = new InMemoryHandler(_data);
        using var client = new HttpClient(handler);
        var options = new MnistDownloadOptions { Mirrors = ["https://mirror.invalid/mnist"], HttpClient = client };

        await new MnistDownloader(options, null, _data.Dataset).DownloadAsync(_target.Path);

        handler.RequestedUris.Should().HaveCount(4);
        using var afterwards = await client.GetAsync(new Uri($"https://mirror.invalid/mnist/{FirstFile}.gz"));
        afterwards.StatusCode.Should().Be(HttpStatusCode.OK, "the downloader must not dispose a client it was given");
        ShouldHoldPlainFiles(_target);
    }

    [Fact]
    public async Task VerifyAsync_EmptyFolder_ReportsEveryFileMissing()
    {
        var problems = await new MnistDownloader(new MnistDownloadOptions(), null, _data.Dataset).VerifyAsync(_target.Path);

        problems.Should().HaveCount(4);
        problems.Should().AllSatisfy(p => p.Should().Contain("missing"));
        problems.Select(p => p.Split(':')[0]).Should().Equal(SyntheticMnist.Names);
    }

    [Fact]
    public async Task VerifyAsync_VerifiedFiles_ReportsNothing()
    {
        _data.WritePlainFiles(_target.Path);

        var problems = await new MnistDownloader(new MnistDownloadOptions(), null, _data.Dataset).VerifyAsync(_target.Path);

        problems.Should().BeEmpty();
    }

    [Fact]
    public async Task VerifyAsync_OneWrongFile_ReportsThatFile()
    {
        _data.WritePlainFiles(_target.Path);
        File.WriteAllBytes(_target.File(FirstFile), [0]);

        var problems = await new MnistDownloader(new MnistDownloadOptions(), null, _data.Dataset).VerifyAsync(_target.Path);

        problems.Should().ContainSingle().Which.Should().StartWith(FirstFile).And.Contain("SHA-256");
    }

    [Fact]
    public async Task DownloadAsync_NullDirectory_ThrowsArgumentNullException()
    {
        var act = () => new MnistDownloader().DownloadAsync(null!);

        (await act.Should().ThrowAsync<ArgumentNullException>()).Which.ParamName.Should().Be("directory");
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task DownloadAsync_BlankDirectory_ThrowsArgumentException(string directory)
    {
        var act = () => new MnistDownloader().DownloadAsync(directory);

        (await act.Should().ThrowAsync<ArgumentException>()).Which.ParamName.Should().Be("directory");
    }

    [Fact]
    public async Task VerifyAsync_NullDirectory_ThrowsArgumentNullException()
    {
        var act = () => new MnistDownloader().VerifyAsync(null!);

        (await act.Should().ThrowAsync<ArgumentNullException>()).Which.ParamName.Should().Be("directory");
    }

    [Fact]
    public void Constructor_NullOptions_ThrowsArgumentNullException()
    {
        var act = () => new MnistDownloader(null!);

        act.Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("options");
    }

    [Fact]
    public void FileNames_Always_ListsTheFourStandardNames()
    {
        MnistDownloader.FileNames.Should().Equal(
            "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
    }

    private MnistDownloader CreateDownloader(params string[] mirrors) => CreateDownloader(mirrors, retries: 0);

    private MnistDownloader CreateDownloader(string[] mirrors, int retries = 0, TimeSpan? timeout = null, ILogger<MnistDownloader>? logger = null)
    {
        var options = new MnistDownloadOptions
        {
            Mirrors = mirrors,
            RequestTimeout = timeout ?? GenerousTimeout,
            RetriesPerMirror = retries,
            RetryDelay = TimeSpan.Zero,
        };
        return new MnistDownloader(options, logger, _data.Dataset);
    }

    private void ShouldHoldPlainFiles(TempDirectory folder)
    {
        foreach (var name in SyntheticMnist.Names)
        {
            File.ReadAllBytes(folder.File(name)).Should().Equal(_data.Plain[name], $"{name} must be stored decompressed");
        }
    }

    /// <summary>Serves the synthetic .gz files from memory and records what was asked for.</summary>
    private sealed class InMemoryHandler(SyntheticMnist data) : HttpMessageHandler
    {
        public List<Uri> RequestedUris { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            RequestedUris.Add(request.RequestUri!);
            var name = Path.GetFileNameWithoutExtension(request.RequestUri!.AbsolutePath);
            var response = data.Gzip.TryGetValue(name, out var gzip)
                ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(gzip) }
                : new HttpResponseMessage(HttpStatusCode.NotFound);
            return Task.FromResult(response);
        }
    }
}
