using System.Net;
using System.Security.Cryptography;
using MnistCnn.Core.Data.Download;

namespace MnistCnn.Core.Tests.Data.Download;

/// <summary>
/// Fashion-MNIST and KMNIST through the downloader, served by a local mirror. Their pinned MD5 values are
/// those of the real files, which synthetic data cannot meet: the success paths use the data set's
/// descriptor with the synthetic files' MD5 values (and, like the real one, no pinned SHA-256); the real
/// descriptors are tested on the refusal path.
/// </summary>
public sealed class MnistDownloaderDatasetTests : IDisposable
{
    private const string FirstFile = "train-images-idx3-ubyte";

    private readonly SyntheticMnist _data = new();
    private readonly TempDirectory _target = new();

    public void Dispose() => _target.Dispose();

    public static TheoryData<string> DatasetsWithoutPinnedSha256() => ["Fashion-MNIST", "KMNIST"];

    [Theory]
    [MemberData(nameof(DatasetsWithoutPinnedSha256))]
    public async Task DownloadAsync_DatasetOnLocalMirror_StoresVerifiedFilesAndRecordsTheirSha256(string name)
    {
        await using var server = new LocalHttpServer();
        _data.ServeAll(server);
        var dataset = _data.WithoutPinnedSha256(Dataset(name));

        var result = await CreateDownloader(server.BaseUrl).DownloadAsync(_target.Path, dataset);

        result.DownloadedFiles.Should().Equal(SyntheticMnist.Names);
        result.ExistingFiles.Should().BeEmpty();
        _target.Entries().Should().BeEquivalentTo(
            SyntheticMnist.Names.Concat(SyntheticMnist.Names.Select(n => n + ".sha256")), "only the files and their SHA-256 records may remain");
        foreach (var file in SyntheticMnist.Names)
        {
            File.ReadAllBytes(_target.File(file)).Should().Equal(_data.Plain[file]);
            File.ReadAllText(_target.File(file + ".sha256")).Should().Be($"{Sha256(_data.Plain[file])}  {file}\n");
        }
    }

    [Fact]
    public async Task DownloadAsync_DownloadedBefore_VerifiesAgainstTheRecordAndFetchesNothing()
    {
        await using var server = new LocalHttpServer();
        _data.ServeAll(server);
        var dataset = _data.WithoutPinnedSha256(MnistDatasetInfo.FashionMnist);
        var downloader = CreateDownloader(server.BaseUrl);
        await downloader.DownloadAsync(_target.Path, dataset);

        var again = await downloader.DownloadAsync(_target.Path, dataset);

        again.DownloadedFiles.Should().BeEmpty();
        again.ExistingFiles.Should().Equal(SyntheticMnist.Names);
        server.TotalRequests.Should().Be(4, "only the first call fetched");
        (await downloader.VerifyAsync(_target.Path, dataset)).Should().BeEmpty();
    }

    [Fact]
    public async Task DownloadAsync_StoredFileChangedSinceDownload_FetchesItAgain()
    {
        await using var server = new LocalHttpServer();
        _data.ServeAll(server);
        var dataset = _data.WithoutPinnedSha256(MnistDatasetInfo.Kmnist);
        var downloader = CreateDownloader(server.BaseUrl);
        await downloader.DownloadAsync(_target.Path, dataset);
        var damaged = (byte[])_data.Plain[FirstFile].Clone();
        damaged[0] ^= 1;
        File.WriteAllBytes(_target.File(FirstFile), damaged);

        var problems = await downloader.VerifyAsync(_target.Path, dataset);
        var result = await downloader.DownloadAsync(_target.Path, dataset);

        problems.Should().ContainSingle().Which.Should().StartWith($"{FirstFile}: SHA-256 is {Sha256(damaged)}, expected {Sha256(_data.Plain[FirstFile])}");
        result.DownloadedFiles.Should().Equal(FirstFile);
        File.ReadAllBytes(_target.File(FirstFile)).Should().Equal(_data.Plain[FirstFile]);
    }

    [Fact]
    public async Task DownloadAsync_FileWithoutRecord_CannotBeVerifiedSoFetchesItAgain()
    {
        await using var server = new LocalHttpServer();
        _data.ServeAll(server);
        var dataset = _data.WithoutPinnedSha256(MnistDatasetInfo.FashionMnist);
        _data.WritePlainFiles(_target.Path);
        var downloader = CreateDownloader(server.BaseUrl);

        var problems = await downloader.VerifyAsync(_target.Path, dataset);
        var result = await downloader.DownloadAsync(_target.Path, dataset);

        problems.Should().HaveCount(4).And.AllSatisfy(p => p.Should().Contain("no SHA-256 to check it against"));
        result.DownloadedFiles.Should().Equal(SyntheticMnist.Names);
        server.TotalRequests.Should().Be(4);
    }

    [Fact]
    public async Task DownloadAsync_GzipPlacedByHand_DecompressesItAndRecordsItsSha256WithoutMirror()
    {
        await using var server = new LocalHttpServer();
        _data.WriteGzipFiles(_target.Path);
        var dataset = _data.WithoutPinnedSha256(MnistDatasetInfo.Kmnist);

        var result = await CreateDownloader(server.BaseUrl).DownloadAsync(_target.Path, dataset);

        result.DownloadedFiles.Should().Equal(SyntheticMnist.Names);
        server.TotalRequests.Should().Be(0);
        File.ReadAllBytes(_target.File(FirstFile)).Should().Equal(_data.Plain[FirstFile]);
        File.ReadAllText(_target.File(FirstFile + ".sha256")).Should().Be($"{Sha256(_data.Plain[FirstFile])}  {FirstFile}\n");
    }

    [Fact]
    public async Task DownloadAsync_LocalMirrorWithDecompressedFilesOnly_RefusesThemWithoutPinnedSha256()
    {
        using var mirror = new TempDirectory();
        _data.WritePlainFiles(mirror.Path);
        var dataset = _data.WithoutPinnedSha256(MnistDatasetInfo.FashionMnist);

        var act = () => CreateDownloader(mirror.Path).DownloadAsync(_target.Path, dataset);

        var thrown = await act.Should().ThrowAsync<MnistDownloadException>();
        thrown.Which.FileName.Should().Be(FirstFile);
        thrown.Which.Message.Should().Contain("Fashion-MNIST").And.Contain("no SHA-256 of train-images-idx3-ubyte is pinned");
        _target.Entries().Should().BeEmpty();
    }

    [Theory]
    [MemberData(nameof(DatasetsWithoutPinnedSha256))]
    public async Task DownloadAsync_RealChecksumsAndMirrorServingOtherBytes_RefusesNamingFileAndBothMd5s(string name)
    {
        await using var server = new LocalHttpServer();
        _data.ServeAll(server);
        var dataset = Dataset(name);
        var served = _data.Gzip[FirstFile];
        var expected = dataset.Files[0].GzipMd5;

        var act = () => CreateDownloader(server.BaseUrl).DownloadAsync(_target.Path, dataset);

        var thrown = await act.Should().ThrowAsync<MnistDownloadException>();
        thrown.Which.FileName.Should().Be(FirstFile);
        thrown.Which.Directory.Should().Be(_target.Path);
        thrown.Which.Failures.Should().ContainSingle().Which.Reason.Should().Be(
            $"MD5 mismatch for {FirstFile}.gz: got {Md5(served)}, expected {expected} (corrupt or truncated file)");
        thrown.Which.Message.Should().StartWith($"Could not obtain a verified copy of the {name} file '{FirstFile}'");
        _target.Entries().Should().BeEmpty("nothing unverified or temporary may be left behind");
    }

    [Theory]
    [MemberData(nameof(DatasetsWithoutPinnedSha256))]
    public async Task DownloadAsync_NoMirrorsConfigured_AsksTheDataSetsOwnMirror(string name)
    {
        var dataset = Dataset(name);
        using var handler = new NotFoundHandler();
        var downloader = new MnistDownloader(new MnistDownloadOptions { HttpMessageHandler = handler, RetriesPerMirror = 0 });

        var act = () => downloader.DownloadAsync(_target.Path, dataset);

        await act.Should().ThrowAsync<MnistDownloadException>();
        handler.RequestedUris.Should().Equal(new Uri(dataset.DefaultMirrors[0] + FirstFile + ".gz"));
    }

    [Fact]
    public async Task DownloadAsync_DefaultOverload_StillFetchesMnist()
    {
        using var handler = new NotFoundHandler();
        var downloader = new MnistDownloader(new MnistDownloadOptions { HttpMessageHandler = handler, RetriesPerMirror = 0 });

        var act = () => downloader.DownloadAsync(_target.Path);

        (await act.Should().ThrowAsync<MnistDownloadException>()).Which.Message.Should().Contain("the MNIST file");
        handler.RequestedUris.Select(u => u.AbsoluteUri).Should().Equal(
            MnistDownloadOptions.DefaultMirrors.Select(m => m + FirstFile + ".gz"));
    }

    [Fact]
    public async Task DownloadAsync_NullDataset_ThrowsArgumentNullException()
    {
        var act = () => new MnistDownloader().DownloadAsync(_target.Path, (MnistDatasetInfo)null!);

        (await act.Should().ThrowAsync<ArgumentNullException>()).Which.ParamName.Should().Be("dataset");
    }

    private static MnistDatasetInfo Dataset(string name) => MnistDatasetInfo.All.Single(d => d.Name == name);

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static string Md5(byte[] bytes)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        hash.AppendData(bytes);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private MnistDownloader CreateDownloader(string mirror) =>
        new(new MnistDownloadOptions { Mirrors = [mirror], RetriesPerMirror = 0, RetryDelay = TimeSpan.Zero }, null, _data.Dataset);

    /// <summary>Answers 404 to everything and records what was asked for; no network is used.</summary>
    private sealed class NotFoundHandler : HttpMessageHandler
    {
        public List<Uri> RequestedUris { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            RequestedUris.Add(request.RequestUri!);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound));
        }
    }
}
