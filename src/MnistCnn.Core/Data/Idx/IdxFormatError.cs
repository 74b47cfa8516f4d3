namespace MnistCnn.Core.Data.Idx;

/// <summary>What is wrong with an IDX file, as reported by <see cref="IdxFormatException.Reason"/>.</summary>
public enum IdxFormatError
{
    /// <summary>Not specified (the exception was created without a reason).</summary>
    Unspecified = 0,

    /// <summary>The file does not start with an IDX magic number (two zero bytes).</summary>
    InvalidMagic,

    /// <summary>The element type is not 0x08 (unsigned byte), the only one MNIST-format data uses.</summary>
    UnsupportedElementType,

    /// <summary>The file has another number of dimensions than expected (1 for labels, 3 for images).</summary>
    UnexpectedDimensionCount,

    /// <summary>A dimension is below 1, or together they declare more bytes than a .NET array can hold.</summary>
    InvalidDimension,

    /// <summary>The file (or its decompressed content) is empty, or shorter than its header declares.</summary>
    Truncated,

    /// <summary>The file (or its decompressed content) holds more bytes than its header declares.</summary>
    TrailingData,

    /// <summary>The file starts like gzip (1F 8B) but its compressed data is invalid.</summary>
    CorruptGzip,

    /// <summary>A label file and its image file hold different numbers of items.</summary>
    CountMismatch,

    /// <summary>A label is not below the dataset's class count.</summary>
    LabelOutOfRange,
}
