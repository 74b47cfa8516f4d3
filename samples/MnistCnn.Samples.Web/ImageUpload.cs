using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace MnistCnn.Samples.Web;

/// <summary>
/// Reads the image file of a <c>POST /api/predict</c>: the raw body (<c>image/png</c> or <c>image/jpeg</c>)
/// or the field <c>file</c> of a <c>multipart/form-data</c> upload, never more than the body limit.
/// </summary>
internal static class ImageUpload
{
    public const string FormField = "file";

    private static readonly string[] RawTypes = ["image/png", "image/jpeg"];

    /// <summary>The file's bytes; throws <see cref="RejectedImageException"/> for anything not acceptable.</summary>
    public static async Task<byte[]> ReadAsync(HttpRequest request, PredictionLimits limits, CancellationToken cancellationToken)
    {
        try
        {
            return request.HasFormContentType
                ? await ReadFormFileAsync(request, limits, cancellationToken)
                : await ReadRawBodyAsync(request, limits, cancellationToken);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // Kestrel's own request body limit (a chunked form's, see ReadFormFileAsync).
            throw RejectedImageException.TooLarge(limits.MaxBodyBytes);
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel refused the body as it came in: it ended early (400), or trickled in below the minimum
            // data rate (408). Answered as such, not as an unhandled exception.
            throw RejectedImageException.BadRequest(e.StatusCode, e.Message);
        }
    }

    private static async Task<byte[]> ReadRawBodyAsync(HttpRequest request, PredictionLimits limits, CancellationToken cancellationToken)
    {
        var contentType = request.ContentType;
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            || !RawTypes.Contains(mediaType.MediaType.Value, StringComparer.OrdinalIgnoreCase))
        {
            throw RejectedImageException.Unsupported(
                $"Content-Type '{contentType ?? "(none)"}' is not accepted: send the image as the body with "
                + $"Content-Type image/png or image/jpeg, or as the form field '{FormField}' of a multipart/form-data upload.");
        }

        if (request.ContentLength > limits.MaxBodyBytes)
        {
            throw RejectedImageException.TooLarge(limits.MaxBodyBytes);
        }

        if (request.ContentLength is { } length)
        {
            // Exactly the declared size (Kestrel ends the read with 400 when the body is shorter).
            var bytes = new byte[length];
            await request.Body.ReadExactlyAsync(bytes, cancellationToken);
            return NotEmpty(bytes);
        }

        // A chunked body declares no length: read no more than one chunk past the limit to know it is over.
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limits.MaxBodyBytes)
            {
                throw RejectedImageException.TooLarge(limits.MaxBodyBytes);
            }

            buffer.Write(chunk, 0, read);
        }

        return NotEmpty(buffer.ToArray());
    }

    private static async Task<byte[]> ReadFormFileAsync(HttpRequest request, PredictionLimits limits, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limits.MaxBodyBytes + PredictionLimits.MultipartOverheadBytes)
        {
            throw RejectedImageException.TooLarge(limits.MaxBodyBytes);
        }

        if (!request.HasFormContentType || !request.ContentType!.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            throw RejectedImageException.Unsupported(
                $"Content-Type '{request.ContentType}' is not accepted: forms must be multipart/form-data with the image in the field '{FormField}'.");
        }

        // Kestrel's own limit is high enough to discard a refused body after the answer (see DigitWebApp); a
        // chunked form declares no length, so this request's limit is brought down to the file limit.
        if (request.ContentLength is null
            && request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = limits.MaxBodyBytes + PredictionLimits.MultipartOverheadBytes;
        }

        IFormCollection form;
        try
        {
            // The form reader's own limits are kept to this endpoint's: one file no larger than the limit.
            request.HttpContext.Features.Set<IFormFeature>(new FormFeature(request, new()
            {
                MultipartBodyLengthLimit = limits.MaxBodyBytes,
                ValueCountLimit = 16,
                KeyLengthLimit = 256,
            }));
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (InvalidDataException e) when (e.Message.Contains("length limit", StringComparison.OrdinalIgnoreCase))
        {
            throw RejectedImageException.TooLarge(limits.MaxBodyBytes);
        }
        catch (Exception e) when (e is InvalidDataException or IOException and not BadHttpRequestException)
        {
            throw RejectedImageException.BadImage($"The multipart form could not be read: {e.Message}");
        }

        var file = form.Files.GetFile(FormField)
            ?? throw RejectedImageException.BadImage($"The form has no file field '{FormField}' (curl -F {FormField}=@digit.png ...).");
        if (file.Length > limits.MaxBodyBytes)
        {
            throw RejectedImageException.TooLarge(limits.MaxBodyBytes);
        }

        var bytes = new byte[file.Length];
        await using (var stream = file.OpenReadStream())
        {
            await stream.ReadExactlyAsync(bytes, cancellationToken);
        }

        return NotEmpty(bytes);
    }

    private static byte[] NotEmpty(byte[] bytes) => bytes.Length > 0
        ? bytes
        : throw RejectedImageException.BadImage("The image file is empty.");
}
