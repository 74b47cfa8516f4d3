using System.Buffers.Binary;
using System.IO.Compression;

namespace MnistCnn.Core.Data.Idx;

/// <summary>
/// Reads the unsigned-byte IDX files MNIST-format data uses, plain or gzip-compressed, checking the header
/// against the file before allocating the data array, then reading the data into that array in one call.
/// </summary>
internal static class IdxReader
{
    /// <summary>The element type byte of unsigned bytes.</summary>
    public const byte UnsignedByte = 0x08;

    /// <summary>
    /// Deflate's largest expansion (a 258-byte match coded in about two bits). A gzip file of C bytes cannot
    /// decompress to more than C times this, so a header that declares more is false.
    /// </summary>
    public const long MaxGzipExpansion = 1032;

    public static (byte[] Data, int[] Dimensions) Read(string path, IdxKind kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var fullPath = Path.GetFullPath(path);

        // Unbuffered: the data is read straight into its final array, the header with one small read.
        using var file = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        var fileLength = file.Length;
        if (fileLength == 0)
        {
            throw new IdxFormatException(fullPath, IdxFormatError.Truncated,
                $"is empty (0 bytes); an IDX {kind.Noun} file starts with the header {kind.MagicText}.");
        }

        // Gzip is recognised by its magic bytes, never by the file name.
        Span<byte> start = stackalloc byte[2];
        var isGzip = file.ReadAtLeast(start, 2, throwOnEndOfStream: false) == 2 && start[0] == 0x1F && start[1] == 0x8B;
        file.Position = 0;
        if (!isGzip)
        {
            return new Source(fullPath, kind, file, fileLength, gzip: false).Read();
        }

        using var gzip = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
        return new Source(fullPath, kind, gzip, fileLength, gzip: true).Read();
    }

    private readonly ref struct Source(string path, IdxKind kind, Stream stream, long fileLength, bool gzip)
    {
        public (byte[] Data, int[] Dimensions) Read()
        {
            Span<byte> magic = stackalloc byte[4];
            var got = ReadFully(magic);
            if (got < magic.Length)
            {
                throw Fail(IdxFormatError.Truncated, $"ends inside its header: {got} {Content} bytes, fewer than the 4 of the header {kind.MagicText}.");
            }

            if (magic[0] != 0 || magic[1] != 0)
            {
                throw Fail(IdxFormatError.InvalidMagic,
                    $"does not start with an IDX magic number: expected {kind.MagicText}, found " +
                        $"{Convert.ToHexString(magic)}{(gzip ? " after gzip decompression" : string.Empty)}.");
            }

            if (magic[2] != UnsignedByte)
            {
                throw Fail(IdxFormatError.UnsupportedElementType,
                    $"holds elements of type 0x{magic[2]:X2} ({ElementTypeName(magic[2])}); only 0x08 (unsigned byte) is supported.");
            }

            if (magic[3] != kind.DimensionCount)
            {
                throw Fail(IdxFormatError.UnexpectedDimensionCount,
                    $"has {magic[3]} dimensions; an IDX {kind.Noun} file has {kind.DimensionCount} ({kind.DimensionNames}).{kind.Hint(magic[3])}");
            }

            var headerLength = 4 + (4 * kind.DimensionCount);
            Span<byte> dimensionBytes = stackalloc byte[4 * kind.DimensionCount];
            got = ReadFully(dimensionBytes);
            if (got < dimensionBytes.Length)
            {
                throw Fail(IdxFormatError.Truncated,
                    $"ends inside its header: {4 + got} {Content} bytes, fewer than the {headerLength} of a {kind.DimensionCount}-dimensional header.");
            }

            var dimensions = new int[kind.DimensionCount];
            UInt128 declared = 1;
            for (var i = 0; i < dimensions.Length; i++)
            {
                dimensions[i] = BinaryPrimitives.ReadInt32BigEndian(dimensionBytes[(4 * i)..]);
                if (dimensions[i] < 1)
                {
                    var asUnsigned = dimensions[i] < 0 ? $" (0x{(uint)dimensions[i]:X8} read as a signed 32-bit integer)" : string.Empty;
                    throw Fail(IdxFormatError.InvalidDimension,
                        $"declares {kind.DimensionName(i)} = {dimensions[i]}{asUnsigned}; every dimension must be at least 1.");
                }

                declared *= (uint)dimensions[i];
            }

            var described = $"{kind.Describe(dimensions)} ({declared} bytes)";
            if (declared > (UInt128)Array.MaxLength)
            {
                throw Fail(IdxFormatError.InvalidDimension, $"declares {described}, more than the {Array.MaxLength} bytes a .NET array can hold.");
            }

            var dataLength = (int)declared;
            CheckAgainstFileLength(described, dataLength, headerLength);

            var data = GC.AllocateUninitializedArray<byte>(dataLength);
            got = ReadFully(data);
            if (got < dataLength)
            {
                throw Fail(IdxFormatError.Truncated, $"declares {described} but holds {got} bytes of {Content} data (truncated).");
            }

            // A plain file's length was compared exactly; a gzip stream must end here, which also makes
            // the decompressor check the gzip trailer's CRC-32 and length.
            if (gzip)
            {
                Span<byte> probe = stackalloc byte[4096];
                var extra = ReadFully(probe);
                if (extra > 0)
                {
                    var amount = extra < probe.Length ? $"{extra}" : $"at least {extra}";
                    throw Fail(IdxFormatError.TrailingData, $"declares {described} but holds {amount} more bytes of {Content} data (trailing bytes).");
                }
            }

            return (data, dimensions);
        }

        private string Content => gzip ? "decompressed" : "file";

        private void CheckAgainstFileLength(string described, int dataLength, int headerLength)
        {
            if (!gzip)
            {
                var available = fileLength - headerLength;
                if (available < dataLength)
                {
                    throw Fail(IdxFormatError.Truncated, $"declares {described} but holds {available} bytes of data (truncated).");
                }

                if (available > dataLength)
                {
                    throw Fail(IdxFormatError.TrailingData,
                        $"declares {described} but holds {available} bytes of data ({available - dataLength} trailing bytes).");
                }

                return;
            }

            // The decompressed length is unknown up front; refuse what the compressed size cannot hold so a
            // false header cannot make us allocate gigabytes.
            var limit = fileLength * MaxGzipExpansion;
            if (headerLength + (long)dataLength > limit)
            {
                throw Fail(IdxFormatError.Truncated,
                    $"declares {described} but a gzip file of {fileLength} bytes decompresses to at most {limit} bytes (truncated, or a false header).");
            }
        }

        private int ReadFully(Span<byte> buffer)
        {
            try
            {
                return stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            }
            catch (InvalidDataException e)
            {
                // Only the decompressor throws this; report it as a bad file, keeping the cause.
                throw Fail(IdxFormatError.CorruptGzip, $"is not valid gzip data ({e.Message.TrimEnd('.')}).", e);
            }
        }

        private IdxFormatException Fail(IdxFormatError reason, string detail, Exception? inner = null) => new(path, reason, detail, inner);
    }

    private static string ElementTypeName(byte type) => type switch
    {
        0x09 => "signed byte",
        0x0B => "16-bit integer",
        0x0C => "32-bit integer",
        0x0D => "32-bit float",
        0x0E => "64-bit float",
        _ => "not an IDX element type",
    };
}

/// <summary>The two kinds of IDX file MNIST-format data uses: labels (idx1) and images (idx3).</summary>
internal sealed class IdxKind
{
    public static readonly IdxKind Labels = new("labels", ["count"]);

    public static readonly IdxKind Images = new("images", ["count", "rows", "columns"]);

    private readonly string[] _dimensionNames;

    private IdxKind(string noun, string[] dimensionNames)
    {
        Noun = noun;
        _dimensionNames = dimensionNames;
    }

    public string Noun { get; }

    public int DimensionCount => _dimensionNames.Length;

    public string DimensionNames => string.Join(", ", _dimensionNames);

    public string MagicText => $"00 00 08 0{DimensionCount}";

    public string DimensionName(int index) => _dimensionNames[index];

    public string Describe(int[] dimensions) => DimensionCount == 1
        ? $"{dimensions[0]} labels"
        : $"{dimensions[0]} images of {dimensions[1]}x{dimensions[2]}";

    // Passing a labels file where images are expected (or the reverse) is the likely mistake.
    public string Hint(int dimensionCount)
    {
        if (this == Images && dimensionCount == 1)
        {
            return " Is this a labels file?";
        }

        return this == Labels && dimensionCount == 3 ? " Is this an images file?" : string.Empty;
    }

    public override string ToString() => Noun;
}
