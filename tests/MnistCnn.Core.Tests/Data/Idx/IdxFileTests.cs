using FluentAssertions.Specialized;
using MnistCnn.Core.Data.Idx;
using MnistCnn.Core.Data;

namespace MnistCnn.Core.Tests.Data.Idx;

public sealed class IdxFileTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadLabels_WrittenByWriteLabels_RoundTrips(bool gzip)
    {
        var path = _temp.File("labels");
        byte[] labels = [3, 1, 4, 1, 5, 9, 2, 6];

        IdxFile.WriteLabels(path, labels, gzip);

        IdxFile.ReadLabels(path).Should().Equal(labels);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadImages_WrittenByWriteImages_RoundTrips(bool gzip)
    {
        var path = _temp.File("images");
        var (pixels, _) = SyntheticDigits.Make(5, 3, 4);

        IdxFile.WriteImages(path, pixels, 5, 3, 4, gzip);
        var images = IdxFile.ReadImages(path);

        images.Count.Should().Be(5);
        images.Height.Should().Be(3);
        images.Width.Should().Be(4);
        images.Pixels.Should().Equal(pixels);
    }

    [Fact]
    public void WriteImages_Plain_WritesTheBigEndianIdx3Layout()
    {
        var path = _temp.File("images");

        IdxFile.WriteImages(path, [1, 2, 3, 4, 5, 6], 1, 2, 3);

        File.ReadAllBytes(path).Should().Equal(0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6);
    }

    [Fact]
    public void WriteLabels_Gzip_StartsWithTheGzipMagicAndKeepsTheName()
    {
        var path = _temp.File("labels-without-gz-suffix");

        IdxFile.WriteLabels(path, [7, 8], gzip: true);

        File.ReadAllBytes(path).Take(2).Should().Equal(0x1F, 0x8B);
    }

    [Fact]
    public void ReadLabels_GzipFileNamedWithoutGz_IsDetectedFromItsBytes()
    {
        var path = _temp.File("train-labels-idx1-ubyte");
        File.WriteAllBytes(path, IdxBytes.Gzip([.. IdxBytes.Header(0x08, 3), 1, 2, 3]));

        IdxFile.ReadLabels(path).Should().Equal(1, 2, 3);
    }

    [Fact]
    public void ReadImages_PlainFileNamedGz_IsReadAsPlain()
    {
        var path = _temp.File("train-images-idx3-ubyte.gz");
        File.WriteAllBytes(path, [.. IdxBytes.Header(0x08, 1, 1, 2), 10, 20]);

        IdxFile.ReadImages(path).Pixels.Should().Equal(10, 20);
    }

    [Fact]
    public void WriteLabels_ExistingFile_IsReplacedWithoutLeavingTemporaryFiles()
    {
        var path = _temp.File("labels");
        IdxFile.WriteLabels(path, [1, 2, 3, 4]);

        IdxFile.WriteLabels(path, [9]);

        IdxFile.ReadLabels(path).Should().Equal(9);
        Directory.GetFiles(_temp.Path).Should().Equal(path);
    }

    [Theory]
    [InlineData(new byte[] { 0x1F, 0x00, 0x08, 0x03 }, "1F000803")]
    [InlineData(new byte[] { 0x00, 0x01, 0x08, 0x03 }, "00010803")]
    public void ReadImages_WrongMagic_ThrowsInvalidMagic(byte[] magic, string found)
    {
        var path = Write("bad-magic", [.. magic, .. new byte[32]]);

        Read(path, images: true).Which.Message.Should().Contain($"expected 00 00 08 03, found {found}");
    }

    [Theory]
    [InlineData(0x09, "signed byte")]
    [InlineData(0x0B, "16-bit integer")]
    [InlineData(0x0C, "32-bit integer")]
    [InlineData(0x0D, "32-bit float")]
    [InlineData(0x0E, "64-bit float")]
    [InlineData(0x42, "not an IDX element type")]
    public void ReadImages_ElementTypeOtherThanUnsignedByte_ThrowsNamingTheType(byte type, string name)
    {
        var path = Write("typed", [.. IdxBytes.Header(type, 1, 2, 2), .. new byte[16]]);

        var error = Read(path, images: true).Which;

        error.Reason.Should().Be(IdxFormatError.UnsupportedElementType);
        error.Message.Should().Contain($"type 0x{type:X2} ({name}); only 0x08 (unsigned byte) is supported");
    }

    [Fact]
    public void ReadImages_LabelsFile_ThrowsUnexpectedDimensionCount()
    {
        var path = Write("train-labels-idx1-ubyte", IdxBytes.File(2, 2));

        var error = Read(path, images: true).Which;

        error.Reason.Should().Be(IdxFormatError.UnexpectedDimensionCount);
        error.Message.Should().Contain("has 1 dimensions; an IDX images file has 3 (count, rows, columns). Is this a labels file?");
    }

    [Fact]
    public void ReadLabels_ImagesFile_ThrowsUnexpectedDimensionCount()
    {
        var path = Write("train-images-idx3-ubyte", IdxBytes.File(4, 1, 2, 2));

        var error = Read(path, images: false).Which;

        error.Reason.Should().Be(IdxFormatError.UnexpectedDimensionCount);
        error.Message.Should().Contain("has 3 dimensions; an IDX labels file has 1 (count). Is this an images file?");
    }

    [Theory]
    [InlineData(0, 28, 28, "count = 0")]
    [InlineData(2, 0, 28, "rows = 0")]
    [InlineData(2, 28, 0, "columns = 0")]
    [InlineData(2, -28, 28, "rows = -28 (0xFFFFFFE4 read as a signed 32-bit integer)")]
    public void ReadImages_DimensionBelowOne_ThrowsInvalidDimension(int count, int rows, int columns, string expected)
    {
        var path = Write("zero", IdxBytes.File(100, count, rows, columns));

        var error = Read(path, images: true).Which;

        error.Reason.Should().Be(IdxFormatError.InvalidDimension);
        error.Message.Should().Contain($"declares {expected}; every dimension must be at least 1");
    }

    [Fact]
    public void ReadImages_TwoToThe31Images_FailsWithoutAllocating()
    {
        // 2^31 does not fit a signed 32-bit dimension: the header holds 0x80000000.
        var path = Write("huge", IdxBytes.File(84, int.MinValue, 28, 28));

        var (error, allocated) = ReadMeasuringAllocation(path);

        error.Reason.Should().Be(IdxFormatError.InvalidDimension);
        error.Message.Should().Contain("count = -2147483648 (0x80000000 read as a signed 32-bit integer)");
        allocated.Should().BeLessThan(64 * 1024);
    }

    [Fact]
    public void ReadImages_MoreBytesThanAnArrayHolds_FailsWithoutAllocating()
    {
        var path = Write("huge", IdxBytes.File(84, int.MaxValue, 28, 28));

        var (error, allocated) = ReadMeasuringAllocation(path);

        error.Reason.Should().Be(IdxFormatError.InvalidDimension);
        error.Message.Should().Contain($"declares 2147483647 images of 28x28 (1683627179248 bytes), more than the {Array.MaxLength} bytes a .NET array can hold");
        allocated.Should().BeLessThan(64 * 1024);
    }

    [Fact]
    public void ReadImages_PlainFileTooSmallForItsHeader_FailsWithoutAllocating()
    {
        var path = Write("train-images-idx3-ubyte", IdxBytes.File(84, 1_000_000, 28, 28));

        var (error, allocated) = ReadMeasuringAllocation(path);

        error.Reason.Should().Be(IdxFormatError.Truncated);
        error.Message.Should().Contain("declares 1000000 images of 28x28 (784000000 bytes) but holds 84 bytes of data (truncated)");
        allocated.Should().BeLessThan(64 * 1024);
    }

    [Fact]
    public void ReadImages_GzipFileTooSmallForItsHeader_FailsWithoutAllocating()
    {
        var gzip = IdxBytes.Gzip(IdxBytes.File(84, 1_000_000, 28, 28));
        var path = Write("train-images-idx3-ubyte.gz", gzip);

        var (error, allocated) = ReadMeasuringAllocation(path);

        error.Reason.Should().Be(IdxFormatError.Truncated);
        error.Message.Should().Contain($"declares 1000000 images of 28x28 (784000000 bytes) but a gzip file of {gzip.Length} bytes decompresses to at most {gzip.Length * 1032} bytes");
        allocated.Should().BeLessThan(1024 * 1024);
    }

    [Theory]
    [InlineData(false, "holds 40 bytes of data (truncated)")]
    [InlineData(true, "holds 40 bytes of decompressed data (truncated)")]
    public void ReadImages_DataShorterThanDeclared_ThrowsTruncated(bool gzip, string expected)
    {
        var content = IdxBytes.File(40, 3, 4, 4);
        var path = Write("train-images-idx3-ubyte", gzip ? IdxBytes.Gzip(content) : content);

        var error = Read(path, images: true).Which;

        error.Reason.Should().Be(IdxFormatError.Truncated);
        error.Message.Should().Contain($"declares 3 images of 4x4 (48 bytes) but {expected}");
    }

    [Theory]
    [InlineData(false, "holds 50 bytes of data (2 trailing bytes)")]
    [InlineData(true, "holds 2 more bytes of decompressed data (trailing bytes)")]
    public void ReadImages_DataLongerThanDeclared_ThrowsTrailingData(bool gzip, string expected)
    {
        var content = IdxBytes.File(50, 3, 4, 4);
        var path = Write("train-images-idx3-ubyte", gzip ? IdxBytes.Gzip(content) : content);

        var error = Read(path, images: true).Which;

        error.Reason.Should().Be(IdxFormatError.TrailingData);
        error.Message.Should().Contain($"declares 3 images of 4x4 (48 bytes) but {expected}");
    }

    [Fact]
    public void ReadLabels_EmptyFile_ThrowsTruncated()
    {
        var path = Write("train-labels-idx1-ubyte", []);

        var error = Read(path, images: false).Which;

        error.Reason.Should().Be(IdxFormatError.Truncated);
        error.Message.Should().Contain("is empty (0 bytes)");
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 8 }, "3 file bytes, fewer than the 4 of the header")]
    [InlineData(new byte[] { 0, 0, 8, 1, 0, 0 }, "6 file bytes, fewer than the 8 of a 1-dimensional header")]
    public void ReadLabels_FileEndingInsideTheHeader_ThrowsTruncated(byte[] content, string expected)
    {
        var path = Write("train-labels-idx1-ubyte", content);

        var error = Read(path, images: false).Which;

        error.Reason.Should().Be(IdxFormatError.Truncated);
        error.Message.Should().Contain($"ends inside its header: {expected}");
    }

    [Fact]
    public void ReadLabels_InvalidDeflateData_ThrowsCorruptGzipWithTheCause()
    {
        // A valid gzip header, then a deflate block of the reserved type 3, which no decoder accepts.
        byte[] content = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF, 0x07, 0x00, 0x00, 0x00];
        var path = Write("train-labels-idx1-ubyte.gz", content);

        var error = Read(path, images: false).Which;

        error.Reason.Should().Be(IdxFormatError.CorruptGzip);
        error.Message.Should().Contain("is not valid gzip data");
        error.InnerException.Should().BeOfType<InvalidDataException>();
    }

    [Fact]
    public void ReadLabels_GzipWithWrongChecksum_ThrowsCorruptGzip()
    {
        var content = IdxBytes.Gzip([.. IdxBytes.Header(0x08, 3), 1, 2, 3]);
        content[^8] ^= 0xFF; // the trailer's CRC-32
        var path = Write("train-labels-idx1-ubyte.gz", content);

        var error = Read(path, images: false).Which;

        error.Reason.Should().Be(IdxFormatError.CorruptGzip);
        error.Message.Should().Contain("is not valid gzip data");
    }

    [Fact]
    public void ReadLabels_MissingFile_ThrowsFileNotFoundNamingThePath()
    {
        var path = Path.Combine(_temp.Path, "absent-labels");

        var act = () => IdxFile.ReadLabels(path);

        act.Should().Throw<FileNotFoundException>().Which.Message.Should().Contain(path);
    }

    [Fact]
    public void ReadLabels_EmptyPath_ThrowsArgumentException()
    {
        var act = () => IdxFile.ReadLabels("");

        act.Should().Throw<ArgumentException>().WithParameterName("path");
    }

    [Fact]
    public void WriteImages_PixelCountNotMatchingTheSizes_ThrowsArgumentException()
    {
        var act = () => IdxFile.WriteImages(_temp.File("images"), new byte[7], 2, 2, 2);

        act.Should().Throw<ArgumentException>().WithParameterName("pixels").WithMessage("*need 8 bytes; got 7*");
    }

    [Fact]
    public void WriteImages_ZeroImages_ThrowsArgumentOutOfRange()
    {
        var act = () => IdxFile.WriteImages(_temp.File("images"), [], 0, 2, 2);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("count");
    }

    [Fact]
    public void WriteLabels_NoLabels_ThrowsArgumentException()
    {
        var act = () => IdxFile.WriteLabels(_temp.File("labels"), []);

        act.Should().Throw<ArgumentException>().WithParameterName("labels");
    }

    [Fact]
    public void IdxImages_PixelCountNotMatchingTheSizes_ThrowsArgumentException()
    {
        var act = () => new IdxImages(new byte[5], 1, 2, 2);

        act.Should().Throw<ArgumentException>().WithParameterName("pixels");
    }

    private string Write(string name, byte[] content)
    {
        var path = _temp.File(name);
        File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>Reads the file expecting a format error whose message starts with the file's path.</summary>
    private static ExceptionAssertions<IdxFormatException> Read(string path, bool images)
    {
        Action act = images ? () => IdxFile.ReadImages(path) : () => IdxFile.ReadLabels(path);
        var assertion = act.Should().Throw<IdxFormatException>();
        assertion.Which.FilePath.Should().Be(path);
        assertion.Which.Message.Should().StartWith($"{path}: ");
        return assertion;
    }

    private static (IdxFormatException Error, long Allocated) ReadMeasuringAllocation(string path)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            IdxFile.ReadImages(path);
        }
        catch (IdxFormatException e)
        {
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            e.FilePath.Should().Be(path);
            e.Message.Should().StartWith($"{path}: ");
            return (e, allocated);
        }

        throw new Xunit.Sdk.XunitException($"Reading {path} succeeded; a format error was expected.");
    }
}
