using System.Buffers.Binary;
using System.Text;
using MnistCnn.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Training;

/// <summary>
/// Checks a checkpoint's optimizer section, in TorchSharp's <c>save_state_dict</c> format for Adam
/// (<see cref="FusedAdam"/>), AdamW or SGD, against the optimizer it is about to be loaded into, before TorchSharp
/// reads a byte of it.
/// </summary>
/// <remarks>
/// Why: TorchSharp's reader trusts the stream. A damaged section throws whatever it happens to hit
/// (<see cref="EndOfStreamException"/>, <see cref="ArgumentException"/>, <see cref="InvalidDataException"/>,
/// <see cref="OverflowException"/>), allocates 8 bytes per declared dimension before reading them (a rank of
/// 2^28 is a 2 GB array), and accepts NaN or infinite moments and learning rates, negative steps and second
/// moments, which turn the next step's weights into NaN. This reads the same layout with every length checked
/// against the section: the optimizer's type name (a state written by another of the supported optimizers is
/// refused naming both); the group and state counts (LEB128); per group the initial and current learning rates
/// (doubles), then for Adam and AdamW beta1, beta2, eps and weight decay (doubles) and the amsgrad and maximize
/// flags (bytes 0 or 1, as the optimizer has them), for SGD momentum (in [0, 1)), dampening (0), weight decay
/// (doubles) and the nesterov (only with momentum) and maximize flags; per parameter, for Adam and AdamW the step
/// (int64, non-negative), exp_avg and exp_avg_sq (dtype, rank and dimensions as LEB128, equal to the
/// parameter's, then finite data; exp_avg_sq non-negative) and the max_exp_avg_sq flag (and tensor, with
/// amsgrad), for SGD the momentum-buffer flag (set only with momentum) and the buffer; nothing after the last
/// parameter. Numbers are read as TorchSharp writes them (little-endian, shortest LEB128), so a section that
/// passes is loaded exactly as written.
/// </remarks>
internal static class OptimizerStateCheck
{
    private const int MaxRank = 64;

    /// <summary>The optimizer kind of each state type name TorchSharp writes for the optimizers the trainer creates.</summary>
    private static readonly Dictionary<string, TrainingOptimizer> Kinds = new(StringComparer.Ordinal)
    {
        [nameof(FusedAdam)] = TrainingOptimizer.Adam,
        [nameof(AdamW)] = TrainingOptimizer.AdamW,
        [nameof(SGD)] = TrainingOptimizer.Sgd,
    };

    /// <summary>Throws <see cref="ModelFileException"/> naming <paramref name="path"/> unless the section fits the optimizer.</summary>
    public static void Validate(ReadOnlySpan<byte> section, OptimizerHelper optimizer, string path)
    {
        var typeName = optimizer.GetType().Name;
        if (!Kinds.TryGetValue(typeName, out var kind))
        {
            throw new InvalidOperationException($"Checkpoints hold the state of Adam, AdamW or SGD; the optimizer is {typeName}.");
        }

        var reader = new Reader(section, path);
        var name = reader.NetString("type name");
        if (name != typeName)
        {
            if (Kinds.TryGetValue(name, out var written))
            {
                throw new ModelFileException(
                    path,
                    $"holds the state of the {written} optimizer, but this run trains with {kind}: resume with TrainerOptions.Optimizer = " +
                        $"TrainingOptimizer.{written}.");
            }

            reader.Fail($"was written by optimizer '{Printable(name)}', not {typeName}");
        }

        var groups = optimizer.ParamGroups.Cast<ParamGroup>().ToArray();
        var parameters = optimizer.parameters().ToArray();
        reader.Count("parameter group count", groups.Length);
        reader.Count("state count", parameters.Length);
        if (kind == TrainingOptimizer.Sgd)
        {
            ValidateSgd(ref reader, groups, parameters);
        }
        else
        {
            ValidateAdam(ref reader, groups, parameters);
        }

        if (reader.Remaining > 0)
        {
            reader.Fail($"has {reader.Remaining} bytes after its last parameter");
        }
    }

    // Adam and AdamW write the same layout.
    private static void ValidateAdam(ref Reader reader, ParamGroup[] groups, Parameter[] parameters)
    {
        var amsgrad = false;
        foreach (var group in groups)
        {
            var (groupAmsgrad, maximize) = group.Options switch
            {
                Adam.Options o => (o.amsgrad ?? false, o.maximize ?? false),
                AdamW.Options o => (o.amsgrad ?? false, o.maximize ?? false),
                var o => throw new InvalidOperationException($"The optimizer's parameter group has {o?.GetType().FullName ?? "no"} options."),
            };
            reader.Double("initial learning rate", v => v > 0);
            reader.Double("learning rate", v => v > 0);
            reader.Double("beta1", v => v is >= 0 and < 1);
            reader.Double("beta2", v => v is >= 0 and < 1);
            reader.Double("eps", v => v >= 0);
            reader.Double("weight decay", v => v >= 0);
            amsgrad = reader.Flag("amsgrad", groupAmsgrad);
            reader.Flag("maximize", maximize);
        }

        for (var i = 0; i < parameters.Length; i++)
        {
            var parameter = parameters[i];
            if (reader.Int64($"step of parameter {i}") < 0)
            {
                reader.Fail($"gives parameter {i} a negative step");
            }

            reader.Tensor($"exp_avg of parameter {i}", parameter, nonNegative: false);
            reader.Tensor($"exp_avg_sq of parameter {i}", parameter, nonNegative: true);
            if (reader.Flag($"max_exp_avg_sq flag of parameter {i}", amsgrad))
            {
                reader.Tensor($"max_exp_avg_sq of parameter {i}", parameter, nonNegative: true);
            }
        }
    }

    private static void ValidateSgd(ref Reader reader, ParamGroup[] groups, Parameter[] parameters)
    {
        var momentum = new double[groups.Length];
        for (var g = 0; g < groups.Length; g++)
        {
            reader.Double("initial learning rate", v => v > 0);
            reader.Double("learning rate", v => v > 0);
            momentum[g] = reader.Double("momentum", v => v is >= 0 and < 1);
            reader.Double("dampening", v => v == 0);
            reader.Double("weight decay", v => v >= 0);
            if (reader.AnyFlag("nesterov") && momentum[g] == 0)
            {
                reader.Fail("sets nesterov without momentum");
            }

            reader.Flag("maximize", expected: false);
        }

        // The state follows the parameters group by group (TorchSharp's state_dict order).
        var i = 0;
        for (var g = 0; g < groups.Length; g++)
        {
            foreach (var _ in groups[g].Parameters)
            {
                var parameter = parameters[i];
                if (reader.AnyFlag($"momentum_buffer flag of parameter {i}"))
                {
                    if (momentum[g] == 0)
                    {
                        reader.Fail($"holds a momentum buffer for parameter {i} without momentum");
                    }

                    reader.Tensor($"momentum_buffer of parameter {i}", parameter, nonNegative: false);
                }

                i++;
            }
        }
    }

    private static string Printable(string text) => text.Length > 40 ? text[..40] + "..." : text;

    /// <summary>A bounds-checked cursor over the section; every failure is a <see cref="ModelFileException"/>.</summary>
    private ref struct Reader(ReadOnlySpan<byte> bytes, string path)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _at;

        public readonly int Remaining => _bytes.Length - _at;

        public readonly void Fail(string what) =>
            throw new ModelFileException(path, $"is damaged: its optimizer state {what} (byte {_at} of {_bytes.Length}).");

        public string NetString(string what)
        {
            var length = Leb128(what);
            if (length > Remaining)
            {
                Fail($"declares a {what} of {length} bytes, past its end");
            }

            try
            {
                var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Take((int)length, what));
                return text;
            }
            catch (DecoderFallbackException)
            {
                Fail($"has a {what} that is not UTF-8");
                return string.Empty;
            }
        }

        public void Count(string what, long expected)
        {
            var count = Leb128(what);
            if (count != expected)
            {
                Fail($"has a {what} of {count}; the optimizer has {expected}");
            }
        }

        public double Double(string what, Func<double, bool> valid)
        {
            var value = BinaryPrimitives.ReadDoubleLittleEndian(Take(8, what));
            if (!double.IsFinite(value) || !valid(value))
            {
                Fail($"has an invalid {what}: {value}");
            }

            return value;
        }

        public long Int64(string what) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, what));

        public bool Flag(string what, bool expected)
        {
            var value = Take(1, what)[0];
            if (value > 1 || (value == 1) != expected)
            {
                Fail($"has {what} {value}; this optimizer writes {(expected ? 1 : 0)}");
            }

            return value == 1;
        }

        public bool AnyFlag(string what)
        {
            var value = Take(1, what)[0];
            if (value > 1)
            {
                Fail($"has {what} {value}; TorchSharp writes 0 or 1");
            }

            return value == 1;
        }

        public void Tensor(string what, Tensor like, bool nonNegative)
        {
            var dtype = Leb128(what);
            if (dtype != (long)like.dtype)
            {
                Fail($"gives {what} dtype {dtype}; the parameter is {like.dtype} ({(int)like.dtype})");
            }

            var rank = Leb128(what);
            if (rank != like.dim() || rank > MaxRank)
            {
                Fail($"gives {what} {rank} dimensions; the parameter has {like.dim()}");
            }

            for (var d = 0; d < rank; d++)
            {
                var size = Leb128(what);
                if (size != like.shape[d])
                {
                    Fail($"gives {what} size {size} in dimension {d}; the parameter's is {like.shape[d]} (shape [{string.Join(", ", like.shape)}])");
                }
            }

            var data = Take(checked((int)like.numel() * (int)like.ElementSize), what);
            var index = like.dtype switch
            {
                ScalarType.Float32 => FirstBad(data, 4, nonNegative),
                ScalarType.Float64 => FirstBad(data, 8, nonNegative),
                _ => -1,
            };
            if (index >= 0)
            {
                Fail($"holds a NaN or infinite{(nonNegative ? " or negative" : string.Empty)} value in {what} at element {index}; training from it would " +
                    $"diverge");
            }
        }

        // The shortest little-endian base-128 encoding of a non-negative int64, as TorchSharp writes it.
        private long Leb128(string what)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = Take(1, what)[0];
                if (shift == 63 && b > 0)
                {
                    Fail($"has a number in its {what} that is too large");
                }

                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    if (b == 0 && shift > 0)
                    {
                        Fail($"has a number in its {what} that is not in its shortest form");
                    }

                    return (long)value;
                }
            }
        }

        private ReadOnlySpan<byte> Take(int count, string what)
        {
            if (count > Remaining)
            {
                Fail($"ends inside its {what}; it is truncated");
            }

            var span = _bytes.Slice(_at, count);
            _at += count;
            return span;
        }

        private static long FirstBad(ReadOnlySpan<byte> data, int width, bool nonNegative)
        {
            for (var i = 0; i < data.Length / width; i++)
            {
                var value = width == 4 ? BinaryPrimitives.ReadSingleLittleEndian(data[(i * width)..])
                    : BinaryPrimitives.ReadDoubleLittleEndian(data[(i * width)..]);
                if (!double.IsFinite(value) || (nonNegative && value < 0))
                {
                    return i;
                }
            }

            return -1;
        }
    }
}
