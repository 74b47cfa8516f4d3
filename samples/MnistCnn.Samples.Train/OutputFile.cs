namespace MnistCnn.Samples.Train;

/// <summary>Writes an output file under a temporary name in its folder, then renames it into place.</summary>
internal static class OutputFile
{
    /// <summary>
    /// Calls <paramref name="write"/> with a temporary path beside <paramref name="path"/> (same extension, so
    /// writers that go by it still do), then moves the file over <paramref name="path"/>. A failed or interrupted
    /// write leaves any earlier file under the name as it was, and removes its temporary file.
    /// </summary>
    public static void Write(string path, Action<string> write)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temporary = Path.Combine(folder, $".{Path.GetFileNameWithoutExtension(path)}.{Guid.NewGuid():N}.tmp{Path.GetExtension(path)}");
        try
        {
            write(temporary);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
