using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.Hosting;
using Microsoft.Net.Http.Headers;

// MnistCnn.StaticHost <folder> [--urls http://127.0.0.1:5001]
// Serves the files under <folder> (index.html for "/") to GET and HEAD requests. A file published with a
// precompressed copy beside it (name.br, name.gz) is sent compressed when the browser accepts that encoding,
// brotli first, as a production server would send a Blazor WebAssembly app. Once listening it prints one line,
// "Serving <folder> at <url>", which eng/wasm.sh and the browser tests read (--urls http://127.0.0.1:0 picks a
// free port).
if (args.Length < 1 || !Directory.Exists(args[0]))
{
    Console.Error.WriteLine("usage: MnistCnn.StaticHost <folder that exists> [--urls http://127.0.0.1:PORT]");
    return 2;
}

var root = Path.GetFullPath(args[0]);
var builder = WebApplication.CreateSlimBuilder(args[1..]);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls("http://127.0.0.1:5001");
}

var app = builder.Build();
var contentTypes = new FileExtensionContentTypeProvider();
contentTypes.Mappings[".wasm"] = "application/wasm";
contentTypes.Mappings[".dat"] = "application/octet-stream";

app.Run(async context =>
{
    if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
    {
        context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
        return;
    }

    var relative = Uri.UnescapeDataString(context.Request.Path.Value ?? "/").TrimStart('/');
    var file = Path.GetFullPath(Path.Combine(root, relative.Length == 0 ? "index.html" : relative));
    // Only files inside the folder: "..", absolute paths and links out of it are refused.
    if (!file.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(file))
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return;
    }

    context.Response.ContentType = contentTypes.TryGetContentType(file, out var type) ? type : "application/octet-stream";
    context.Response.Headers.Vary = HeaderNames.AcceptEncoding;
    context.Response.Headers.CacheControl = "no-cache";
    var accepted = StringWithQualityHeaderValue.TryParseList([.. context.Request.Headers.AcceptEncoding.Select(v => v ?? string.Empty)], out var encodings)
        ? encodings.Where(e => e.Quality is not 0).Select(e => e.Value.Value).ToHashSet(StringComparer.OrdinalIgnoreCase)
        : [];
    foreach (var (encoding, suffix) in new[] { ("br", ".br"), ("gzip", ".gz") })
    {
        if (accepted.Contains(encoding) && File.Exists(file + suffix))
        {
            context.Response.Headers.ContentEncoding = encoding;
            file += suffix;
            break;
        }
    }

    context.Response.ContentLength = new FileInfo(file).Length;
    if (HttpMethods.IsGet(context.Request.Method))
    {
        await context.Response.SendFileAsync(file, context.RequestAborted);
    }
});

await app.StartAsync();
Console.WriteLine($"Serving {root} at {app.Urls.First()}");
await app.WaitForShutdownAsync();
return 0;
