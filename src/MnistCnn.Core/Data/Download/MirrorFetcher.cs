using System.Globalization;
using Microsoft.Extensions.Logging;

namespace MnistCnn.Core.Data.Download;

/// <summary>
/// Mirrors: obtains one file from one source (an HTTP mirror, with retries and a per-read timeout, a local
/// mirror folder, or a local file) and hands its bytes to the <see cref="VerifiedFileStore"/>.
/// </summary>
internal sealed class MirrorFetcher(RetryPolicy retries, TimeSpan requestTimeout, VerifiedFileStore store, ILogger logger)
{
    public async Task<MnistMirrorFailure?> TryHttpMirrorAsync(
        MnistDatasetInfo dataset, MnistFile file, MnistMirror mirror, string finalPath, HttpClient client, IProgress<MnistDownloadProgress>? progress,
            CancellationToken ct)
    {
        var uri = mirror.FileUri(file.Name);
        var url = uri.AbsoluteUri;
        for (var attempt = 1; ; attempt++)
        {
            DownloadLog.Fetching(logger, dataset.Name, file.Name, url, attempt, retries.Attempts);
            var failure = await TryHttpOnceAsync(file, mirror, uri, finalPath, client, progress, ct).ConfigureAwait(false);
            if (failure is null)
            {
                return null;
            }

            DownloadLog.AttemptFailed(logger, dataset.Name, file.Name, mirror.Configured, failure.Value.Reason);
            if (!failure.Value.IsTransient || attempt == retries.Attempts)
            {
                return new MnistMirrorFailure { Mirror = mirror.Configured, Reason = failure.Value.Reason, Attempts = attempt };
            }

            var delay = retries.DelayAfter(attempt);
            DownloadLog.Retrying(logger, dataset.Name, file.Name, mirror.Configured, delay);
            await Task.Delay(delay, ct).ConfigureAwait(false);
        }
    }

    public async Task<MnistMirrorFailure?> TryLocalMirrorAsync(
        MnistDatasetInfo dataset, MnistFile file, MnistMirror mirror, string finalPath, IProgress<MnistDownloadProgress>? progress, CancellationToken ct)
    {
        var gzipPath = Path.Combine(mirror.LocalFolder!, file.Name + ".gz");
        var plainPath = Path.Combine(mirror.LocalFolder!, file.Name);
        DownloadFailure? failure;
        if (File.Exists(gzipPath))
        {
            DownloadLog.Fetching(logger, dataset.Name, file.Name, gzipPath, 1, 1);
            failure = await TryLocalFileAsync(file, gzipPath, compressed: true, mirror.Configured, finalPath, progress, ct).ConfigureAwait(false);
        }
        else if (File.Exists(plainPath))
        {
            DownloadLog.Fetching(logger, dataset.Name, file.Name, plainPath, 1, 1);
            failure = await TryLocalFileAsync(file, plainPath, compressed: false, mirror.Configured, finalPath, progress, ct).ConfigureAwait(false);
        }
        else
        {
            failure = new DownloadFailure($"not found: neither {gzipPath} nor {plainPath} exists", IsTransient: false);
        }

        if (failure is null)
        {
            return null;
        }

        DownloadLog.AttemptFailed(logger, dataset.Name, file.Name, mirror.Configured, failure.Value.Reason);
        return new MnistMirrorFailure { Mirror = mirror.Configured, Reason = failure.Value.Reason, Attempts = 1 };
    }

    public async Task<DownloadFailure?> TryLocalFileAsync(
        MnistFile file, string sourcePath, bool compressed, string mirror, string finalPath,
        IProgress<MnistDownloadProgress>? progress, CancellationToken ct)
    {
        try
        {
            var source = VerifiedFileStore.OpenRead(sourcePath);
            await using (source.ConfigureAwait(false))
            {
                return compressed
                    ? await store.StoreGzipAsync(file, source, source.Length, mirror, finalPath, progress, idleTimeout: null, ct).ConfigureAwait(false)
                    : await store.StorePlainAsync(file, source, mirror, finalPath, progress, ct).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when ((ex is IOException or UnauthorizedAccessException) && !ct.IsCancellationRequested)
        {
            return new DownloadFailure($"cannot read {sourcePath}: {ex.Message}", IsTransient: false);
        }
    }

    private async Task<DownloadFailure?> TryHttpOnceAsync(
        MnistFile file, MnistMirror mirror, Uri uri, string finalPath, HttpClient client, IProgress<MnistDownloadProgress>? progress, CancellationToken ct)
    {
        // One token per attempt: the caller's cancellation, or silence longer than the request timeout.
        using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        attemptCts.CancelAfter(requestTimeout);
        try
        {
            using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, attemptCts.Token)
                .ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var code = (int)response.StatusCode;
                var reason = response.ReasonPhrase ?? response.StatusCode.ToString();
                return new DownloadFailure($"HTTP {code} ({reason}) for {uri}", RetryPolicy.IsTransient(code));
            }

            if (response.Content.Headers.ContentLength > file.MaxGzipLength)
            {
                return new DownloadFailure($"{uri} announces {response.Content.Headers.ContentLength} bytes, more than the {file.MaxGzipLength} a .gz of " +
                    $"{file.Name} can have (wrong file)", IsTransient: false);
            }

            var body = await response.Content.ReadAsStreamAsync(attemptCts.Token).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                return await store.StoreGzipAsync(
                    file, body, response.Content.Headers.ContentLength, mirror.Configured, finalPath, progress, attemptCts, ct)
                    .ConfigureAwait(false);
            }
        }
        catch (Exception ex) when ((ex is OperationCanceledException or HttpRequestException or IOException) && !ct.IsCancellationRequested)
        {
            return attemptCts.IsCancellationRequested
                ? new DownloadFailure($"timed out (no data for {FormatSeconds(requestTimeout)}) on {uri}", IsTransient: true)
                : new DownloadFailure($"download of {uri} failed: {ex.Message}", IsTransient: true);
        }
    }

    private static string FormatSeconds(TimeSpan value) =>
        value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";
}
