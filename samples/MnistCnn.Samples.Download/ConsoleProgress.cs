using MnistCnn.Core.Data.Download;
using System.Globalization;
using MnistCnn.Core.Data;

namespace MnistCnn.Samples.Download;

/// <summary>
/// Prints one line when a file starts and at each quarter of it. Reports synchronously, unlike
/// <see cref="Progress{T}"/>, so lines never come out of order.
/// </summary>
internal sealed class ConsoleProgress : IProgress<MnistDownloadProgress>
{
    private string? _file;
    private int _quartersPrinted;

    public void Report(MnistDownloadProgress value)
    {
        if (value.FileName != _file || value.BytesReceived == 0)
        {
            _file = value.FileName;
            _quartersPrinted = 0;
            Console.WriteLine($"{value.FileName}: fetching from {value.Mirror}");
        }

        if (value.TotalBytes is not > 0)
        {
            return;
        }

        var quarters = (int)(4 * value.BytesReceived / value.TotalBytes.Value);
        if (quarters > _quartersPrinted)
        {
            _quartersPrinted = quarters;
            var megabytes = (value.TotalBytes.Value / 1e6).ToString("0.0", CultureInfo.InvariantCulture);
            Console.WriteLine($"{value.FileName}: {25 * quarters}% of {megabytes} MB");
        }
    }
}
