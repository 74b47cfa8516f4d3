namespace MnistCnn.Samples.Web;

/// <summary>A request the API refuses: its HTTP status, a short title and what exactly is wrong.</summary>
internal sealed class RejectedImageException(int statusCode, string title, string detail) : Exception(detail)
{
    public int StatusCode { get; } = statusCode;

    public string Title { get; } = title;

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
