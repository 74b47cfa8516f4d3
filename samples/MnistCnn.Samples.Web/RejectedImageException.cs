namespace MnistCnn.Samples.Web;

/// <summary>
/// A request the API refuses: its HTTP status, a short title, what exactly is wrong and, in a batch, the
/// position of the image that was refused.
/// </summary>
internal sealed class RejectedImageException(int statusCode, string title, string detail, int? index = null) : Exception(detail)
{
    public int StatusCode { get; } = statusCode;

    public string Title { get; } = title;

    /// <summary>Gets the position (from 0) of the refused image in a batch; null for a whole request.</summary>
    public int? Index { get; } = index;

    /// <summary>The same refusal, for the image at <paramref name="index"/> of a batch.</summary>
    public RejectedImageException AtIndex(int index, string? fileName) =>
        new(StatusCode, Title, $"Image {index}{(string.IsNullOrEmpty(fileName) ? "" : $" ('{fileName}')")}: {Message}", index);

    /// <summary>The problem detail: status, title, detail and, in a batch, <c>index</c>.</summary>
    public IResult ToProblem() => Results.Problem(
        detail: Message, statusCode: StatusCode, title: Title,
        extensions: Index is { } index ? new Dictionary<string, object?> { ["index"] = index } : null);

    public static RejectedImageException BadImage(string detail) =>
        new(StatusCodes.Status400BadRequest, "Not a usable image", detail);

    public static RejectedImageException BadRequest(int statusCode, string detail) => statusCode == StatusCodes.Status408RequestTimeout
        ? new(statusCode, "Upload too slow", $"The image arrived too slowly and was not read to the end: {detail}")
        : new(statusCode, "Bad request", detail);

    public static RejectedImageException TooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, "Image file too large",
            $"The image file is larger than the limit of {limit:N0} bytes.");

    public static RejectedImageException Unsupported(string detail) =>
        new(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", detail);

    public static RejectedImageException TooManyPixels(string detail) =>
        new(StatusCodes.Status422UnprocessableEntity, "Image dimensions too large", detail);
}
