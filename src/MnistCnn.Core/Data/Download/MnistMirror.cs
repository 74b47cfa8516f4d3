namespace MnistCnn.Core.Data.Download;

/// <summary>A configured mirror, resolved once into either an http(s) base URL or a local folder.</summary>
internal sealed class MnistMirror
{
    private MnistMirror(string configured, Uri? httpBase, string? localFolder)
    {
        Configured = configured;
        HttpBase = httpBase;
        LocalFolder = localFolder;
    }

    /// <summary>The mirror exactly as the user wrote it; used in messages and progress.</summary>
    public string Configured { get; }

    /// <summary>The base URL, ending with '/', for http and https mirrors; otherwise null.</summary>
    public Uri? HttpBase { get; }

    /// <summary>The full folder path for file URIs and local paths; otherwise null.</summary>
    public string? LocalFolder { get; }

    public static bool IsSupported(string mirror) => TryResolve(mirror, out _);

    public static MnistMirror Resolve(string mirror) =>
        TryResolve(mirror, out var resolved)
            ? resolved
            : throw new ArgumentException($"Unsupported mirror '{mirror}'.", nameof(mirror));

    public Uri FileUri(string fileName) => new(HttpBase!, Uri.EscapeDataString(fileName) + ".gz");

    private static bool TryResolve(string mirror, out MnistMirror resolved)
    {
        resolved = null!;
        if (string.IsNullOrWhiteSpace(mirror))
        {
            return false;
        }

        // On Unix an absolute path also parses as a file URI, which is what it means anyway.
        if (Uri.TryCreate(mirror, UriKind.Absolute, out var uri) && !IsWindowsDrivePath(mirror))
        {
            if (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            {
                var withSlash = uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
                resolved = new MnistMirror(mirror, withSlash, null);
                return true;
            }

            if (uri.IsFile)
            {
                resolved = new MnistMirror(mirror, null, Path.GetFullPath(uri.LocalPath));
                return true;
            }

            return false;
        }

        try
        {
            resolved = new MnistMirror(mirror, null, Path.GetFullPath(mirror));
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return false;
        }
    }

    // "C:\data" parses as a URI with scheme "c" outside Windows; it is a path.
    private static bool IsWindowsDrivePath(string mirror) =>
        mirror.Length >= 3 && char.IsAsciiLetter(mirror[0]) && mirror[1] == ':' && (mirror[2] == '\\' || mirror[2] == '/');
}
