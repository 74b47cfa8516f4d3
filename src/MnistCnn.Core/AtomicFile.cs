namespace MnistCnn.Core;

/// <summary>Writes files so that a reader never sees a partial one: temporary name in the same folder, then rename.</summary>
internal static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> contents)
    {
        // A span cannot be captured by the callback, so it is copied once; the files written this way are small.
        var bytes = contents.ToArray();
        Write(path, stream => stream.Write(bytes));
    }

    /// <summary>Creates the folder if needed, lets <paramref name="write"/> fill a temporary file, then renames it into place.</summary>
    /// <exception cref="IOException">
    /// The file could not be written (for example, the disk is full). The message names <paramref name="path"/>; a file
    /// already there is unchanged and the temporary file is removed.
    /// </exception>
    public static void Write(string path, Action<Stream> write)
    {
        var (full, temporary) = Prepare(path);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                write(stream);
                FlushToDisk(stream);
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch (Exception e)
        {
            Discard(temporary, full, e);
            throw;
        }
    }

    /// <summary>
    /// As <see cref="Write(string, Action{Stream})"/>, for content that is checked while it is written (a download):
    /// <paramref name="write"/> fills the temporary file and returns whether to keep it. Only a kept file gets
    /// <paramref name="path"/>; a rejected one is removed, and any file already there is unchanged.
    /// </summary>
    /// <returns>What <paramref name="write"/> returned: whether the file now holds the new content.</returns>
    /// <exception cref="IOException">As for <see cref="Write(string, Action{Stream})"/>.</exception>
    public static async Task<bool> WriteAsync(string path, Func<Stream, CancellationToken, Task<bool>> write, CancellationToken cancellationToken)
    {
        var (full, temporary) = Prepare(path);
        try
        {
            bool keep;
            var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, useAsync: true);
            await using (stream.ConfigureAwait(false))
            {
                keep = await write(stream, cancellationToken).ConfigureAwait(false);
                if (keep)
                {
                    FlushToDisk(stream);
                }
            }

            if (keep)
            {
                File.Move(temporary, full, overwrite: true);
            }
            else
            {
                DeleteQuietly(temporary);
            }

            return keep;
        }
        catch (Exception e)
        {
            Discard(temporary, full, e);
            throw;
        }
    }

    private static (string Full, string Temporary) Prepare(string path)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' names no file.", nameof(path));
        Directory.CreateDirectory(folder);

        // Same folder, so the rename stays on one file system and is atomic.
        return (full, Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp"));
    }

    // On disk before the rename, so a crash cannot leave a complete name over incomplete data.
    private static void FlushToDisk(FileStream stream) => stream.Flush(flushToDisk: true);

    /// <summary>Removes the temporary file after <paramref name="e"/>; rethrows an I/O failure under the final name, anything else as it was.</summary>
    private static void Discard(string temporary, string full, Exception e)
    {
        DeleteQuietly(temporary);
        if (e is IOException io)
        {
            // The system's message names the temporary file; the caller knows the file by its final name.
            throw new IOException($"Could not write '{full}': {io.Message} Any previous '{Path.GetFileName(full)}' is unchanged.", io);
        }
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Deleting the partial file is best effort; the write's own error is the one to report.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
