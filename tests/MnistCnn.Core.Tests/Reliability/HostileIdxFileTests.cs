using MnistCnn.Core.Data.Idx;
using System.Buffers.Binary;
using System.IO.Compression;
using MnistCnn.Core.Data;
using MnistCnn.Core.Tests.Data;
using Xunit.Abstractions;

namespace MnistCnn.Core.Tests.Reliability;

/// <summary>
/// Seeded fuzzing of the IDX readers: thousands of files mutated from valid synthetic ones, plain and gzip.
/// Each must load data identical to what the file holds, or raise <see cref="IdxFormatException"/>, without
/// allocating far beyond what the file can justify.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class HostileIdxFileTests(ITestOutputHelper output) : IDisposable
{
    private const int Seed = 20261128;
    private const int Inputs = 4000;

    // Exception objects, messages, paths and GZipStream's buffer; far below any data array that matters.
    private const long AllocationSlack = 64 * 1024;

    private readonly TempDirectory _folder = new();

    private enum Mutation
    {
        None,
        BitFlips,
        Truncate,
        Extend,
        Splice,
        HeaderField,
        HugeDimensions,
        GzipHeader,
        GzipMultiMember,
        GzipBomb,
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void ReadLabelsAndReadImages_MutatedFiles_LoadExactDataOrThrowIdxFormatException()
    {
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var mutations = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var problems = new List<string>();
        var (maxRatio, maxAllocated, tried, current) = (0.0, 0L, 0, -1);

        // A dedicated thread: allocations are counted per thread, and a hang is caught by the join below.
        var worker = new Thread(() =>
        {
            var random = new Random(Seed);
            for (var i = 0; i < Inputs; i++)
            {
                current = i;
                var input = MakeInput(random, i);
                Increment(mutations, $"{input.Mutation}{(input.Gzip ? " (gzip)" : string.Empty)}");
                var (outcome, allocated, problem) = Read(input);
                tried++;
                Increment(outcomes, outcome);
                maxAllocated = Math.Max(maxAllocated, allocated);
                if (allocated > AllocationSlack)
                {
                    maxRatio = Math.Max(maxRatio, (double)allocated / input.Bytes.Length);
                }
                if (problem is not null && problems.Count < 20)
                {
                    problems.Add($"input #{i} ({input.Mutation}, gzip={input.Gzip}, {input.Bytes.Length} bytes, {input.Reader}): {problem}");
                }
            }
        });
        worker.Start();
        var finished = worker.Join(TimeSpan.FromMinutes(5));

        ReliabilityReport.Record(
            "Hostile IDX files (IdxFile.ReadLabels/ReadImages, plain and gzip)",
            [
                $"inputs tried: {tried} (seed {Seed})",
                $"mutations: {string.Join(", ", mutations.Select(m => $"{m.Key} {m.Value}"))}",
                $"outcomes: {string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}"))}",
                $"largest managed allocation of one read: {maxAllocated:N0} bytes; largest allocated/file-size ratio among reads over {AllocationSlack / 1024} KiB: {maxRatio:F1} (gzip limit 1032)",
                $"problems (other exception type, wrong data, allocation over bound): {problems.Count}",
            ],
            output);

        finished.Should().BeTrue($"the readers must not hang (stuck at input #{current})");
        problems.Should().BeEmpty();
        tried.Should().Be(Inputs);
        outcomes.Keys.Should().Contain("loaded").And.Contain(k => k.StartsWith("IdxFormatException", StringComparison.Ordinal));
    }

    private (string Outcome, long Allocated, string? Problem) Read(FuzzInput input)
    {
        var path = Path.Combine(_folder.Path, "input");
        File.WriteAllBytes(path, input.Bytes);
        var bound = AllocationBound(input.Bytes);
        var before = GC.GetAllocatedBytesForCurrentThread();
        string outcome;
        string? problem = null;
        byte[]? data = null;
        int[]? dimensions = null;
        try
        {
            if (input.Reader == IdxReaderKind.Labels)
            {
                data = IdxFile.ReadLabels(path);
                dimensions = [data.Length];
            }
            else
            {
                var images = IdxFile.ReadImages(path);
                data = images.Pixels;
                dimensions = [images.Count, images.Height, images.Width];
            }

            outcome = "loaded";
        }
        catch (IdxFormatException e)
        {
            outcome = $"IdxFormatException {e.Reason}";
            if (!e.Message.StartsWith(path, StringComparison.Ordinal))
            {
                problem = $"message does not name the file: {e.Message}";
            }
        }
        catch (Exception e)
        {
            outcome = $"unexpected {e.GetType().Name}";
            problem = e.ToString();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > bound)
        {
            problem ??= $"allocated {allocated} bytes, over the bound {bound}";
        }

        if (data is not null)
        {
            problem ??= CheckLoadedData(input.Bytes, dimensions!, data);
        }

        return (outcome, allocated, problem);
    }

    /// <summary>
    /// A successful read must return exactly the data the file holds: its (decompressed) content is the
    /// header of the returned dimensions followed by the returned bytes, and nothing else.
    /// </summary>
    private static string? CheckLoadedData(byte[] file, int[] dimensions, byte[] data)
    {
        byte[] content;
        try
        {
            content = IsGzip(file) ? Decompress(file, int.MaxValue) : file;
        }
        catch (InvalidDataException e)
        {
            return $"loaded, but the file is not valid gzip ({e.Message})";
        }

        byte[] expected = [.. IdxBytes.Header(0x08, dimensions), .. data];
        return content.AsSpan().SequenceEqual(expected) ? null : "loaded data that differs from the file's content";
    }

    /// <summary>
    /// What a read may allocate: a plain file, its length; a gzip file, the data its header declares, and at
    /// most deflate's 1032-fold expansion of its size (the limit IdxFile documents); plus slack.
    /// </summary>
    private static long AllocationBound(byte[] file)
    {
        if (!IsGzip(file))
        {
            return file.LongLength + AllocationSlack;
        }

        var header = DecompressPrefix(file, 16);
        var declared = 0L;
        if (header.Length >= 8 && header[3] is 1 or 3 && header.Length >= 4 + (4 * header[3]))
        {
            declared = 1;
            for (var d = 0; d < header[3]; d++)
            {
                declared = Math.Min(declared * Math.Max(0, BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4 + (4 * d)))), long.MaxValue / int.MaxValue);
            }
        }

        return Math.Min(declared, 1032 * file.LongLength) + AllocationSlack;
    }

    private static FuzzInput MakeInput(Random random, int index)
    {
        var isImages = random.Next(2) == 0;
        int[] dimensions = isImages ? [random.Next(1, 5), random.Next(1, 13), random.Next(1, 13)] : [random.Next(1, 41)];
        var data = new byte[dimensions.Aggregate(1, (a, b) => a * b)];
        random.NextBytes(data);
        byte[] content = [.. IdxBytes.Header(0x08, dimensions), .. data];
        var gzip = random.Next(2) == 0;

        // One reader in ten is the wrong kind, as when a labels file is passed for images.
        var reader = (isImages ^ (random.Next(10) == 0)) ? IdxReaderKind.Images : IdxReaderKind.Labels;
        var mutation = (Mutation)(index % Enum.GetValues<Mutation>().Length);
        if (!gzip && mutation is Mutation.GzipHeader or Mutation.GzipMultiMember or Mutation.GzipBomb)
        {
            gzip = true;
        }

        byte[] bytes;
        switch (mutation)
        {
            case Mutation.HeaderField:
                MutateHeader(random, content);
                bytes = Encode(content, gzip);
                break;
            case Mutation.HugeDimensions:
                for (var d = 0; d < dimensions.Length; d++)
                {
                    BinaryPrimitives.WriteInt32BigEndian(content.AsSpan(4 + (4 * d)), random.Next(2) == 0 ? int.MaxValue : random.Next(60_000, int.MaxValue));
                }

                bytes = Encode(content, gzip);
                break;
            case Mutation.GzipMultiMember:
                var split = random.Next(content.Length + 1);
                bytes = [.. IdxBytes.Gzip(content[..split]), .. IdxBytes.Gzip(content[split..])];
                break;
            case Mutation.GzipBomb:
                bytes = GzipBomb(random, isImages);
                break;
            default:
                bytes = Encode(content, gzip);
                Mutate(random, mutation, ref bytes);
                break;
        }

        return new FuzzInput(bytes, mutation, gzip, reader);
    }

    private static void Mutate(Random random, Mutation mutation, ref byte[] bytes)
    {
        switch (mutation)
        {
            case Mutation.BitFlips:
                for (var flips = random.Next(1, 9); flips > 0; flips--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                break;
            case Mutation.Truncate:
                bytes = bytes[..random.Next(bytes.Length)];
                break;
            case Mutation.Extend:
                var extra = new byte[random.Next(1, 65)];
                random.NextBytes(extra);
                bytes = [.. bytes, .. extra];
                break;
            case Mutation.Splice:
                var start = random.Next(bytes.Length);
                random.NextBytes(bytes.AsSpan(start, random.Next(1, Math.Min(32, bytes.Length - start) + 1)));
                break;
            case Mutation.GzipHeader:
                // The ten-byte gzip header: flags (FEXTRA, FNAME, ...), modification time, OS.
                bytes[3] = (byte)random.Next(256);
                bytes[4 + random.Next(6)] = (byte)random.Next(256);
                break;
        }
    }

    private static void MutateHeader(Random random, byte[] content)
    {
        var dimensionCount = content[3];
        switch (random.Next(4))
        {
            case 0:
                content[random.Next(2)] = (byte)random.Next(1, 256);
                break;
            case 1:
                content[2] = (byte)random.Next(256);
                break;
            case 2:
                content[3] = (byte)random.Next(256);
                break;
            default:
                int[] values = [0, -1, int.MinValue, int.MaxValue, 0x00FF_FFFF, 1, random.Next(), -random.Next()];
                var d = random.Next(dimensionCount);
                var current = BinaryPrimitives.ReadInt32BigEndian(content.AsSpan(4 + (4 * d)));
                int[] nearby = [current - 1, current + 1, current * 2];
                var value = random.Next(3) == 0 ? nearby[random.Next(nearby.Length)] : values[random.Next(values.Length)];
                BinaryPrimitives.WriteInt32BigEndian(content.AsSpan(4 + (4 * d)), value);
                break;
        }
    }

    /// <summary>
    /// A small gzip file that expands to megabytes of zeros: declaring all of it (valid, if large), a little
    /// of it (trailing data), or more than the file can expand to (a false header).
    /// </summary>
    private static byte[] GzipBomb(Random random, bool isImages)
    {
        var expanded = random.Next(1, 5) * 1024 * 1024;
        var declared = random.Next(3) switch
        {
            0 => expanded,
            1 => random.Next(1, 1000),
            _ => int.MaxValue / 2,
        };
        int[] dimensions = isImages ? [declared, 1, 1] : [declared];
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal))
        {
            gzip.Write(IdxBytes.Header(0x08, dimensions));
            var zeros = new byte[64 * 1024];
            for (var written = 0; written < expanded; written += zeros.Length)
            {
                gzip.Write(zeros, 0, Math.Min(zeros.Length, expanded - written));
            }
        }

        return buffer.ToArray();
    }

    private static byte[] Encode(byte[] content, bool gzip) => gzip ? IdxBytes.Gzip(content) : content;

    private static bool IsGzip(byte[] file) => file.Length >= 2 && file[0] == 0x1F && file[1] == 0x8B;

    private static byte[] Decompress(byte[] file, int limit)
    {
        using var gzip = new GZipStream(new MemoryStream(file), CompressionMode.Decompress);
        using var content = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while (content.Length < limit && (read = gzip.Read(buffer)) > 0)
        {
            content.Write(buffer, 0, read);
        }

        return content.ToArray();
    }

    private static byte[] DecompressPrefix(byte[] file, int length)
    {
        var prefix = new byte[length];
        var got = 0;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(file), CompressionMode.Decompress);
            int read;
            while (got < length && (read = gzip.Read(prefix.AsSpan(got))) > 0)
            {
                got += read;
            }
        }
        catch (InvalidDataException)
        {
            // Corruption after the header still leaves the header's bytes in the prefix.
        }

        return prefix[..got];
    }

    private static void Increment(SortedDictionary<string, int> counts, string key) =>
        counts[key] = counts.GetValueOrDefault(key) + 1;

    private enum IdxReaderKind
    {
        Labels,
        Images,
    }

    private sealed record FuzzInput(byte[] Bytes, Mutation Mutation, bool Gzip, IdxReaderKind Reader);
}
