using System.Security.Cryptography;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Models;

namespace MnistCnn.Samples.Web;

/// <summary>
/// The model being served, and for <c>--model FILE</c> its reload: <see cref="ReloadIfChanged"/> reads the
/// file's bytes, and when they differ from the served model's, loads them with
/// <see cref="DigitClassifier.Load"/> and swaps the new model in with one reference assignment. A file that
/// does not load leaves the served model as it was, and is remembered in <see cref="LastFailure"/>.
/// </summary>
internal sealed class ModelStore
{
    // DigitClassifier.Load refuses files over 16 MB; reading more than that to hash it would only cost memory.
    private const long MaxFileBytes = 16 * 1024 * 1024;

    private readonly ILogger<ModelStore> _logger;
    private readonly ServiceMetrics _metrics;
    private readonly object _reloading = new();
    private volatile ServedModel _current;
    private volatile ReloadFailure? _lastFailure;

    /// <summary>Serves <paramref name="first"/> (from <see cref="First"/>), watching <paramref name="path"/> when not null.</summary>
    public ModelStore(ServedModel first, string? path, ILogger<ModelStore> logger, ServiceMetrics metrics)
    {
        (_current, Path, _logger, _metrics) = (first, path, logger, metrics);
    }

    /// <summary>Gets the weights file being watched; <see langword="null"/> when serving the pretrained model.</summary>
    public string? Path { get; }

    /// <summary>Gets the model answering now. Read it once per request.</summary>
    public ServedModel Current => _current;

    /// <summary>Gets the last replacement file that failed to load since the served model was loaded; else null.</summary>
    public ReloadFailure? LastFailure => _lastFailure;

    /// <summary>
    /// The first model served: the classifier the library registered (<c>AddMnistCnn</c>: the pretrained model, or
    /// the weights file at <paramref name="path"/>, a full path), which <paramref name="registered"/> resolves.
    /// Throws as <see cref="DigitClassifier.Load"/> does (<see cref="FileNotFoundException"/>,
    /// <see cref="ModelFileException"/>), so a bad file stops the app before it listens.
    /// </summary>
    public static ServedModel First(string? path, Func<DigitClassifier> registered)
    {
        if (path is null)
        {
            var pretrained = registered();
            return new(pretrained, ModelIdentity.Pretrained(pretrained), DateTimeOffset.UtcNow);
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The weights file '{path}' does not exist.", path);
        }

        // Hashed before the library loads the file: if it is replaced in between, the identity is the older bytes and
        // the weights the newer, so the watcher sees a change and reloads; the reverse would hide the new file.
        var bytes = ReadBytes(path);
        var classifier = registered();
        return new(classifier, ModelIdentity.Of(classifier, path, bytes), DateTimeOffset.UtcNow);
    }

    /// <summary>
    /// Loads the watched file when its bytes differ from the served model's and from the last file that failed;
    /// returns whether a new model was swapped in. Never throws for a bad file: it is logged, counted and kept
    /// in <see cref="LastFailure"/>. One reload at a time.
    /// </summary>
    public bool ReloadIfChanged()
    {
        if (Path is null)
        {
            return false;
        }

        lock (_reloading)
        {
            byte[] bytes;
            try
            {
                bytes = ReadBytes(Path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ModelFileException)
            {
                // Between a delete and a rename the file is missing: not a failure of the model, just not there yet.
                if (e is not FileNotFoundException)
                {
                    Fail(Path, "", e.Message);
                }

                return false;
            }

            var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
            if (sha == _current.Identity.Sha256 || sha == _lastFailure?.Sha256)
            {
                return false;
            }

            try
            {
                var next = LoadFile(Path, bytes);
                var previous = _current;
                // A failure before this model is history: the same bad bytes renamed in again are tried and reported
                // again. Cleared first, so /readyz never shows the new model beside the old failure.
                _lastFailure = null;
                _current = next;
                _metrics.Reloaded(ServiceMetrics.ReloadLoaded);
                _logger.ModelReloaded(next.Identity.Name, next.Identity.Architecture, next.Identity.Sha256, previous.Identity.Sha256);
                return true;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Whatever the file holds, the served model stays: a reload never takes the service down.
                Fail(Path, sha, e.Message);
                return false;
            }
        }
    }

    private void Fail(string path, string sha, string reason)
    {
        _lastFailure = new(path, sha, reason, DateTimeOffset.UtcNow);
        _metrics.Reloaded(ServiceMetrics.ReloadFailed);
        _logger.ReloadFailed(path, reason, _current.Identity.Sha256);
    }

    // The model is loaded from a private copy of exactly the bytes that were hashed, so its identity is the
    // weights it computes with even when the watched file is replaced again while it loads.
    private static ServedModel LoadFile(string path, byte[] bytes)
    {
        var copy = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"mnistcnn-web-{Guid.NewGuid():N}.safetensors");
        try
        {
            File.WriteAllBytes(copy, bytes);
            DigitClassifier classifier;
            try
            {
                classifier = DigitClassifier.Load(copy);
            }
            catch (ModelFileException e)
            {
                // The message names the private copy; the operator knows the watched file.
                throw new ModelFileException(path, e.Reason ?? e.Message.Replace(copy, path, StringComparison.Ordinal), e);
            }

            return new(classifier, ModelIdentity.Of(classifier, path, bytes), DateTimeOffset.UtcNow);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    private static byte[] ReadBytes(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (file.Length > MaxFileBytes)
        {
            throw new ModelFileException(path, $"is {file.Length} bytes; a weights file of these networks is far smaller, so it is not one.");
        }

        var bytes = new byte[file.Length];
        file.ReadExactly(bytes);
        return bytes;
    }
}
