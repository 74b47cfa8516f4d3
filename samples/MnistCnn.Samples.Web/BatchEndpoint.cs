using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace MnistCnn.Samples.Web;

/// <summary>
/// <c>POST /api/predict/batch</c>: many images in one request, answered in the order they were sent. Either raw
/// MNIST rows (<c>application/octet-stream</c>: 784 bytes an image, 0 = background, 255 = ink, classified
/// together by <c>PredictBatch</c>), or a <c>multipart/form-data</c> upload with one PNG or JPEG file per
/// image (any field name; decoded and classified one after another, each through the decoding budget). One bad
/// image refuses the whole batch; the problem detail's <c>index</c> names it.
/// </summary>
internal sealed class BatchEndpoint(
    ModelStore store, IOptions<PredictionLimits> limits, DecodingBudget budget, ServiceMetrics metrics, ILogger<BatchEndpoint> logger)
{
    public const string RowsType = "application/octet-stream";

    private const int RowBytes = 28 * 28;

    public async Task<IResult> HandleAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var model = store.Current;
        request.HttpContext.Response.Headers[ModelIdentity.ShaHeader] = model.Identity.Sha256;
        try
        {
            var predictions = request.HasFormContentType
                ? await PredictFilesAsync(request, model, cancellationToken)
                : await PredictRowsAsync(request, model, cancellationToken);
            foreach (var prediction in predictions)
            {
                metrics.Predicted(prediction.Digit);
            }

            return Results.Ok(new BatchResponse(predictions.Count, predictions));
        }
        catch (RejectedImageException e)
        {
            logger.Rejected(e.StatusCode, e.Message);
            return e.ToProblem();
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            logger.Rejected(e.StatusCode, e.Message);
            return BodyTooLarge(request.HasFormContentType).ToProblem();
        }
        catch (BadHttpRequestException e)
        {
            // The body ended early (400) or trickled in below the minimum data rate (408).
            logger.Rejected(e.StatusCode, e.Message);
            return RejectedImageException.BadRequest(e.StatusCode, e.Message).ToProblem();
        }
    }

    private async Task<List<PredictionResponse>> PredictRowsAsync(HttpRequest request, ServedModel model, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !string.Equals(mediaType.MediaType.Value, RowsType, StringComparison.OrdinalIgnoreCase))
        {
            throw RejectedImageException.Unsupported(
                $"Content-Type '{request.ContentType ?? "(none)"}' is not accepted: send MNIST rows ({RowBytes} bytes an image) as "
                + $"{RowsType}, or PNG or JPEG files as multipart/form-data.");
        }

        var maxBytes = (long)limits.Value.MaxBatchImages * RowBytes;
        if (request.ContentLength > maxBytes)
        {
            throw TooManyRows(request.ContentLength.Value);
        }

        byte[] rows;
        if (request.ContentLength is { } length)
        {
            rows = new byte[length];
            await request.Body.ReadExactlyAsync(rows, cancellationToken);
        }
        else
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[64 * 1024];
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    throw TooManyRows(buffer.Length + read);
                }

                buffer.Write(chunk, 0, read);
            }

            rows = buffer.ToArray();
        }

        if (rows.Length == 0 || rows.Length % RowBytes != 0)
        {
            throw RejectedImageException.BadImage(
                $"The body is {rows.Length:N0} bytes: a batch of MNIST rows is a whole, positive number of {RowBytes}-byte images.");
        }

        var predictions = model.Classifier.PredictBatch(rows, rows.Length / RowBytes, cancellationToken: cancellationToken);
        return predictions.Select(p => PredictionResponse.From(p, 28, 28)).ToList();
    }

    private async Task<List<PredictionResponse>> PredictFilesAsync(HttpRequest request, ServedModel model, CancellationToken cancellationToken)
    {
        var limit = limits.Value;
        if (!request.ContentType!.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            throw RejectedImageException.Unsupported(
                $"Content-Type '{request.ContentType}' is not accepted: send the images as files of a multipart/form-data upload.");
        }

        if (request.ContentLength > limit.MaxBatchBytes)
        {
            throw BodyTooLarge(isForm: true);
        }

        // Kestrel's own limit is higher (it discards a refused body); this request's is the batch limit.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = limit.MaxBatchBytes;
        }

        IFormCollection form;
        try
        {
            request.HttpContext.Features.Set<IFormFeature>(new FormFeature(request, new()
            {
                MultipartBodyLengthLimit = limit.MaxBatchBytes,
                ValueCountLimit = limit.MaxBatchImages + 16,
                KeyLengthLimit = 256,
            }));
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (InvalidDataException e) when (e.Message.Contains("count limit", StringComparison.OrdinalIgnoreCase))
        {
            throw TooManyFiles();
        }
        catch (InvalidDataException e) when (e.Message.Contains("length limit", StringComparison.OrdinalIgnoreCase))
        {
            throw BodyTooLarge(isForm: true);
        }
        catch (Exception e) when (e is InvalidDataException or IOException and not BadHttpRequestException)
        {
            throw RejectedImageException.BadImage($"The multipart form could not be read: {e.Message}");
        }

        var files = form.Files;
        if (files.Count == 0)
        {
            throw RejectedImageException.BadImage("The form has no files: send one file per image (curl -F a=@1.png -F b=@2.png ...).");
        }

        if (files.Count > limit.MaxBatchImages)
        {
            throw TooManyFiles();
        }

        var predictions = new List<PredictionResponse>(files.Count);
        for (var index = 0; index < files.Count; index++)
        {
            var file = files[index];
            try
            {
                predictions.Add(await PredictFileAsync(file, model, limit, cancellationToken));
            }
            catch (RejectedImageException e)
            {
                throw e.AtIndex(index, file.FileName);
            }
        }

        return predictions;
    }

    private async Task<PredictionResponse> PredictFileAsync(IFormFile file, ServedModel model, PredictionLimits limit, CancellationToken cancellationToken)
    {
        if (file.Length > limit.MaxBodyBytes)
        {
            throw RejectedImageException.TooLarge(limit.MaxBodyBytes);
        }

        if (file.Length == 0)
        {
            throw RejectedImageException.BadImage("The image file is empty.");
        }

        var bytes = new byte[file.Length];
        await using (var stream = file.OpenReadStream())
        {
            await stream.ReadExactlyAsync(bytes, cancellationToken);
        }

        using var decoding = await budget.TakeAsync(GreyImage.CheckHeader(bytes, limit), cancellationToken);
        using var image = GreyImage.Decode(bytes, limit);
        return PredictionResponse.From(model.Classifier.PredictImage(image.Pixels, image.Width, image.Height), image.Width, image.Height);
    }

    private RejectedImageException TooManyRows(long bytes) => new(
        StatusCodes.Status413PayloadTooLarge, "Batch too large",
        $"The body is {bytes:N0} bytes or more: at most {limits.Value.MaxBatchImages:N0} images ({(long)limits.Value.MaxBatchImages * RowBytes:N0} bytes of MNIST rows) are accepted in one batch.");

    private RejectedImageException TooManyFiles() => new(
        StatusCodes.Status413PayloadTooLarge, "Batch too large",
        $"The form has more than {limits.Value.MaxBatchImages:N0} files, the most accepted in one batch.");

    private RejectedImageException BodyTooLarge(bool isForm) => isForm
        ? new(StatusCodes.Status413PayloadTooLarge, "Batch too large",
            $"The form is larger than the batch limit of {limits.Value.MaxBatchBytes:N0} bytes.")
        : TooManyRows(limits.Value.MaxBatchImages * (long)RowBytes + 1);
}
