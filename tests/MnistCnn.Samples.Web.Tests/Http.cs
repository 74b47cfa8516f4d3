using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace MnistCnn.Samples.Web.Tests;

/// <summary>Request bodies and answer checks shared by the API tests, and requests HttpClient cannot send.</summary>
internal static class Http
{
    public const string ProblemJson = "application/problem+json";

    public static ByteArrayContent Raw(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }

    /// <summary>A body without a length, so HttpClient sends it chunked.</summary>
    public static StreamContent Chunked(byte[] bytes, string contentType)
    {
        var content = new StreamContent(new NoLengthStream(bytes));
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }

    /// <summary>A multipart form with one file part per entry, in order.</summary>
    public static MultipartFormDataContent Files(params (byte[] Bytes, string ContentType, string Name)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (bytes, contentType, name) in files)
        {
            form.Add(Raw(bytes, contentType), "images", name);
        }

        return form;
    }

    /// <summary>Reads an answer that must have <paramref name="expected"/> status with a problem detail; returns its JSON.</summary>
    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(expected, body);
        response.Content.Headers.ContentType?.MediaType.Should().Be(ProblemJson, body);
        using var json = JsonDocument.Parse(body);
        json.RootElement.GetProperty("status").GetInt32().Should().Be((int)expected);
        json.RootElement.GetProperty("title").GetString().Should().NotBeNullOrWhiteSpace();
        json.RootElement.GetProperty("detail").GetString().Should().NotBeNullOrWhiteSpace();
        return json.RootElement.Clone();
    }

    /// <summary>Reads a 200 JSON answer; returns its JSON.</summary>
    public static async Task<JsonElement> OkAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.Clone();
    }

    /// <summary>The ten probabilities of a prediction's JSON.</summary>
    public static float[] Probabilities(JsonElement prediction) =>
        [.. prediction.GetProperty("probabilities").EnumerateArray().Select(p => p.GetSingle())];

    /// <summary>
    /// Sends <paramref name="head"/> (request line and headers, without the blank line) on a raw socket, then a
    /// body of 100,000 declared bytes at 10 bytes a second, far below Kestrel's minimum data rate; returns the
    /// status the server answered (0: it closed the connection without one).
    /// </summary>
    public static async Task<int> SlowUploadAsync(Uri address, string path, string contentType, CancellationToken cancellationToken)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(address.Host, address.Port, cancellationToken);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Type: {contentType}\r\nContent-Length: 100000\r\n\r\n"), cancellationToken);
        var reading = ReadStatusAsync(stream, cancellationToken);
        for (var second = 0; second < 60 && !reading.IsCompleted; second++)
        {
            try
            {
                await stream.WriteAsync(new byte[10], cancellationToken);
            }
            catch (IOException)
            {
                break;   // the server closed the connection; its answer, if any, is in the read
            }

            await Task.WhenAny(reading, Task.Delay(1_000, cancellationToken));
        }

        return await reading;
    }

    /// <summary>Sends a request as raw bytes and reads the whole answer (the server closes or ends it): status, headers, body.</summary>
    public static async Task<(int Status, string Head, string Body)> SendRawAsync(Uri address, string request, CancellationToken cancellationToken)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(address.Host, address.Port, cancellationToken);
        var stream = socket.GetStream();
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);
        }
        catch (IOException)
        {
            // The server answered and closed before taking the whole request: its answer is still there to read.
        }

        var answer = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                answer.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // A reset after the answer: what arrived is kept.
        }

        var text = Encoding.UTF8.GetString(answer.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = split < 0 ? text : text[..split];
        var body = split < 0 ? "" : text[(split + 4)..];
        var parts = head.Split(' ', 3);
        return (parts.Length > 1 && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var status) ? status : 0, head, body);
    }

    private static async Task<int> ReadStatusAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        var buffer = new byte[1];
        try
        {
            while (await stream.ReadAsync(buffer, cancellationToken) == 1 && buffer[0] != '\n')
            {
                line.Append((char)buffer[0]);
            }
        }
        catch (IOException)
        {
            return 0;
        }

        var parts = line.ToString().Split(' ');
        return parts.Length > 1 && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var status) ? status : 0;
    }

    private sealed class NoLengthStream(byte[] bytes) : MemoryStream(bytes, writable: false)
    {
        public override bool CanSeek => false;
    }
}
