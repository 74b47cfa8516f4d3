using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MnistCnn.Core.Tests.Data.Download;

/// <summary>What the test server does with one request.</summary>
internal abstract record Reply
{
    public static Reply NotFound { get; } = new StatusOnly(404, "Not Found");

    /// <summary>200 with the whole body.</summary>
    public sealed record Ok(byte[] Body) : Reply;

    /// <summary>A bodiless status, e.g. 404 or 503.</summary>
    public sealed record StatusOnly(int Code, string Phrase) : Reply;

    /// <summary>Announces the whole body, sends only its first bytes, then closes the connection.</summary>
    public sealed record Truncated(byte[] Body, int BytesSent) : Reply;

    /// <summary>Sends nothing (or headers and the first bytes of the body), then waits until the server stops.</summary>
    public sealed record Stall(byte[]? Body = null, int BytesSent = 0) : Reply;

    /// <summary>Announces the whole body, sends its first bytes, then resets the connection (TCP RST).</summary>
    public sealed record Reset(byte[] Body, int BytesSent) : Reply;

    /// <summary>200 without a length, then random bytes until the client hangs up or the server stops.</summary>
    public sealed record Endless(int Seed) : Reply;
}

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 and a free port, written on raw sockets so tests control
/// exactly what goes over the wire (truncated bodies, silence).
/// </summary>
internal sealed class LocalHttpServer : IAsyncDisposable
{
    private const string Prefix = "/mnist/";

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, Func<int, Reply>> _routes = new();
    private readonly ConcurrentDictionary<string, int> _requestCounts = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly Task _acceptLoop;

    public LocalHttpServer()
    {
        _listener.Start();
        var port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        BaseUrl = $"http://127.0.0.1:{port}{Prefix}";
        // On the thread pool, so the server never waits for a test framework thread to be free.
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The mirror URL to configure; files are served below it.</summary>
    public string BaseUrl { get; }

    public int TotalRequests => _requestCounts.Values.Sum();

    /// <summary>Serves <paramref name="reply"/> for every request of <c>&lt;fileName&gt;</c>.</summary>
    public void Serve(string fileName, Reply reply) => _routes[Prefix + fileName] = _ => reply;

    /// <summary>Chooses the reply from the 1-based number of the request for that file.</summary>
    public void Serve(string fileName, Func<int, Reply> replyForRequest) => _routes[Prefix + fileName] = replyForRequest;

    public int RequestCount(string fileName) => _requestCounts.GetValueOrDefault(Prefix + fileName);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await SwallowAsync(_acceptLoop);
        foreach (var connection in _connections)
        {
            await SwallowAsync(connection);
        }

        _stop.Dispose();
    }

    private static async Task SwallowAsync(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // The server is stopping; connections end however they end.
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (InvalidOperationException) when (_stop.IsCancellationRequested)
            {
                // Disposed between the loop's check and the accept: the listener was stopped first ("Not listening").
                return;
            }

            _connections.Add(Task.Run(() => HandleAsync(client)));
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var path = await ReadRequestPathAsync(stream);
            var number = _requestCounts.AddOrUpdate(path, 1, (_, count) => count + 1);
            var reply = _routes.TryGetValue(path, out var route) ? route(number) : Reply.NotFound;
            switch (reply)
            {
                case Reply.Ok ok:
                    await WriteHeadAsync(stream, 200, "OK", ok.Body.Length);
                    await stream.WriteAsync(ok.Body, _stop.Token);
                    break;
                case Reply.StatusOnly status:
                    await WriteHeadAsync(stream, status.Code, status.Phrase, 0);
                    break;
                case Reply.Truncated truncated:
                    await WriteHeadAsync(stream, 200, "OK", truncated.Body.Length);
                    await stream.WriteAsync(truncated.Body.AsMemory(0, truncated.BytesSent), _stop.Token);
                    break;
                case Reply.Reset reset:
                    await WriteHeadAsync(stream, 200, "OK", reset.Body.Length);
                    await stream.WriteAsync(reset.Body.AsMemory(0, reset.BytesSent), _stop.Token);
                    await stream.FlushAsync(_stop.Token);

                    // Linger 0: closing sends RST instead of FIN, as a dropped connection does.
                    client.Client.LingerState = new LingerOption(true, 0);
                    return;
                case Reply.Endless endless:
                    await WriteHeadAsync(stream, 200, "OK", contentLength: null);
                    var random = new Random(endless.Seed);
                    var chunk = new byte[16 * 1024];
                    while (!_stop.IsCancellationRequested)
                    {
                        random.NextBytes(chunk);
                        await stream.WriteAsync(chunk, _stop.Token);
                    }

                    break;
                case Reply.Stall stall:
                    if (stall.Body is not null)
                    {
                        await WriteHeadAsync(stream, 200, "OK", stall.Body.Length);
                        await stream.WriteAsync(stall.Body.AsMemory(0, stall.BytesSent), _stop.Token);
                        await stream.FlushAsync(_stop.Token);
                    }

                    await Task.Delay(Timeout.Infinite, _stop.Token);
                    break;
            }

            await stream.FlushAsync(_stop.Token);
        }
    }

    private async Task WriteHeadAsync(NetworkStream stream, int code, string phrase, long? contentLength)
    {
        // Without a length, the body ends when the connection closes (Connection: close).
        var length = contentLength is { } l ? $"Content-Length: {l}\r\n" : string.Empty;
        var head = $"HTTP/1.1 {code} {phrase}\r\nContent-Type: application/octet-stream\r\n" +
                   $"{length}Connection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), _stop.Token);
    }

    /// <summary>Reads the request head (a GET has no body) and returns the path of its request line.</summary>
    private async Task<string> ReadRequestPathAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        var buffer = new byte[1024];
        while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, _stop.Token);
            if (read == 0)
            {
                break;
            }

            head.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        var requestLine = head.ToString().Split("\r\n")[0].Split(' ');
        return requestLine.Length >= 2 ? Uri.UnescapeDataString(requestLine[1]) : string.Empty;
    }
}
