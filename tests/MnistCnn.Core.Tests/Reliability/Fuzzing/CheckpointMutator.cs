using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MnistCnn.Core.Tests.Reliability.Fuzzing;

/// <summary>
/// Seeded mutations of a valid training checkpoint. Half the attacks leave the SHA-256 seal as it was, so the
/// seal must catch them; the others recompute the seal after mutating, so the structure inside is attacked:
/// magic, section lengths, trailing bytes, the JSON header (fields removed, null, mistyped, inconsistent,
/// invalid UTF-8, duplicate keys, nesting), the weights (every <see cref="SafeTensorsMutator"/> mutation) and
/// the optimizer state (type name, counts, options, steps, tensor dtypes, ranks and dimensions, NaN and
/// infinite moments, truncation, trailing bytes), plus benign changes that must still load.
/// </summary>
internal sealed class CheckpointMutator
{
    private static readonly string[] Mutations =
    [
        "seal kept: byte flips", "seal kept: truncated", "seal kept: trailing bytes", "seal kept: section mutated",
        "magic changed", "section length changed", "trailing bytes inside the seal",
        "header: field removed", "header: field null", "header: field mistyped", "header: epochs inconsistent",
        "header: architecture changed", "header: invalid UTF-8", "header: broken JSON", "header: duplicate key", "header: deeply nested",
        "header: reformatted", "header: settings changed", "header: history values changed",
        "weights mutated", "weights mutated", "weights mutated",
        "optimizer: type name", "optimizer: counts", "optimizer: option out of range", "optimizer: flag byte", "optimizer: step negative",
        "optimizer: tensor dtype", "optimizer: tensor rank", "optimizer: tensor dimensions", "optimizer: NaN or infinite moment",
        "optimizer: truncated", "optimizer: trailing bytes",
        "optimizer: moments changed", "optimizer: step changed", "optimizer: learning rate changed",
        "resealed: byte flips",
    ];

    private readonly byte[] _seed;
    private readonly CheckpointImage _image;
    private readonly AdamStateLayout _layout;
    private readonly SafeTensorsMutator _weights;

    public CheckpointMutator(byte[] seedCheckpoint)
    {
        _seed = seedCheckpoint;
        _image = CheckpointImage.Split(seedCheckpoint);
        _layout = AdamStateLayout.Parse(_image.Optimizer);
        _weights = new SafeTensorsMutator(_image.Weights);
    }

    public static int MutationCount => Mutations.Length;

    /// <summary>The seed checkpoint's parts.</summary>
    public CheckpointImage Image => _image;

    /// <summary>The mutated checkpoint number <paramref name="index"/> of the series <paramref name="seed"/>.</summary>
    public FuzzCase Make(int seed, int index)
    {
        var random = FuzzCase.RandomFor(seed, index, salt: 2);
        var mutation = Mutations[index % Mutations.Length];
        var result = Apply(random, mutation, seed, index);
        return result with { Index = index, Mutation = result.Mutation.Length == 0 ? mutation : $"{mutation} ({result.Mutation})" };
    }

    private FuzzCase Apply(Random random, string mutation, int seed, int index)
    {
        var image = _image;
        switch (mutation)
        {
            case "seal kept: byte flips":
                {
                    var bytes = (byte[])_seed.Clone();
                    for (var flips = random.Next(1, 9); flips > 0; flips--)
                    {
                        bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    }

                    return Refuse(bytes);
                }

            case "seal kept: truncated":
                return Refuse(_seed[..random.Next(_seed.Length)]);
            case "seal kept: trailing bytes":
                {
                    var extra = new byte[random.Next(1, 65)];
                    random.NextBytes(extra);
                    return Refuse([.. _seed, .. extra]);
                }

            case "seal kept: section mutated":
                {
                    // Any of the resealed attacks below, with the original seal put back.
                    var inner = Make(seed, (index * 7) + 11).Bytes;
                    if (inner.Length < 32)
                    {
                        return Refuse(inner);
                    }

                    byte[] bytes = [.. inner[..^32], .. _seed[^32..]];
                    return bytes.AsSpan().SequenceEqual(_seed) ? new FuzzCase(0, string.Empty, bytes, MustLoad: true) : Refuse(bytes);
                }

            case "magic changed":
                {
                    string[] magics = ["MNCKPT01", "MNCKPT03", "MNCKPT2\0", "mnckpt02", "PK\u0003\u0004\0\0\0\0", "\0\0\0\0\0\0\0\0"];
                    return Refuse(CheckpointImage.Seal([.. Encoding.ASCII.GetBytes(magics[random.Next(magics.Length)]), .. image.Content()[CheckpointImage.MagicLength..]]), "signature");
                }

            case "section length changed":
                {
                    var content = image.Content();
                    int[] lengthAt = [CheckpointImage.MagicLength, CheckpointImage.MagicLength + 8 + image.Header.Length, CheckpointImage.MagicLength + 16 + image.Header.Length + image.Weights.Length];
                    var at = lengthAt[random.Next(3)];
                    var current = BinaryPrimitives.ReadInt64LittleEndian(content.AsSpan(at));
                    long[] values = [current + 1, current - 1, -1, long.MinValue, long.MaxValue, int.MaxValue, (long)int.MaxValue + 1, 0, content.Length];
                    BinaryPrimitives.WriteInt64LittleEndian(content.AsSpan(at), values[random.Next(values.Length)]);
                    return Refuse(CheckpointImage.Seal(content));
                }

            case "trailing bytes inside the seal":
                {
                    var extra = new byte[random.Next(1, 65)];
                    random.NextBytes(extra);
                    return Refuse(CheckpointImage.Seal([.. image.Content(), .. extra]));
                }

            case "header: field removed":
                return HeaderEdit(random, (root, name) => root.Remove(name), mustRefuse: true);
            case "header: field null":
                return HeaderEdit(random, (root, name) => root[name] = null, mustRefuse: true);
            case "header: field mistyped":
                {
                    // A value of another JSON kind than the field's (a number for a string, an array for a number, ...).
                    JsonNode[] values = [JsonValue.Create("x"), JsonValue.Create(1.5), new JsonArray(), new JsonObject(), JsonValue.Create(true)];
                    return HeaderEdit(
                        random,
                        (root, name) =>
                        {
                            var kind = root[name]!.GetValueKind();
                            var others = values.Where(v => v.GetValueKind() != kind && !(kind is JsonValueKind.True or JsonValueKind.False && v.GetValueKind() is JsonValueKind.True)).ToArray();
                            root[name] = others[random.Next(others.Length)].DeepClone();
                        },
                        mustRefuse: true,
                        mustChangeType: true);
                }

            case "header: epochs inconsistent":
                {
                    var root = HeaderJson();
                    var history = root["History"]!.AsArray();
                    switch (random.Next(5))
                    {
                        case 0:
                            root["CompletedEpochs"] = history.Count + random.Next(1, 5);
                            break;
                        case 1:
                            root["CompletedEpochs"] = -1;
                            break;
                        case 2:
                            history.Add(null);
                            root["CompletedEpochs"] = history.Count;
                            break;
                        case 3:
                            history[0]!["Epoch"] = 7;
                            break;
                        default:
                            history.Add(history[^1]!.DeepClone());
                            root["CompletedEpochs"] = history.Count;
                            break;
                    }

                    return Refuse(WithHeader(root.ToJsonString()));
                }

            case "header: architecture changed":
                {
                    var root = HeaderJson();
                    var architecture = root["Architecture"]!.GetValue<string>();
                    string[] changed = [architecture.Replace("3456", "3457", StringComparison.Ordinal), string.Empty, architecture + "; extra Float32 [1]", architecture.ToUpperInvariant()];
                    root["Architecture"] = changed[random.Next(changed.Length)];
                    return Refuse(WithHeader(root.ToJsonString()));
                }

            case "header: invalid UTF-8":
                {
                    byte[][] sequences = [[0xFF], [0xC3], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0x80]];
                    var header = image.Header;
                    var quotes = Enumerable.Range(0, header.Length).Where(i => header[i] == (byte)'"').ToList();
                    var at = quotes[random.Next(quotes.Count)] + 1;
                    return Refuse(Resealed(image with { Header = [.. header[..at], .. sequences[random.Next(sequences.Length)], .. header[at..]] }));
                }

            case "header: broken JSON":
                {
                    var text = Encoding.UTF8.GetString(image.Header);
                    string[] junk = ["}", "{", "]", "[", ",", ":", "\"", "nope", "\\", "NaN", "Infinity", "1e999", "-"];
                    var at = random.Next(1, text.Length);
                    var broken = random.Next(3) switch
                    {
                        0 => text.Remove(at, 1),
                        1 => text.Insert(at, junk[random.Next(junk.Length)]),
                        _ => text[..at],
                    };
                    return new FuzzCase(0, string.Empty, WithHeader(broken));
                }

            case "header: duplicate key":
                {
                    var text = Encoding.UTF8.GetString(image.Header);
                    var duplicate = random.Next(2) == 0 ? "\"CompletedEpochs\":0," : "\"Architecture\":\"x\",";
                    return Refuse(WithHeader(text.Insert(1, duplicate)));
                }

            case "header: deeply nested":
                {
                    var depth = random.Next(65, 5000);
                    var text = Encoding.UTF8.GetString(image.Header);
                    return Refuse(WithHeader(text.Insert(1, $"\"Deep\":{new string('[', depth)}{new string(']', depth)},")));
                }

            case "header: reformatted":
                {
                    var indented = HeaderJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true });
                    return new FuzzCase(0, string.Empty, WithHeader(random.Next(2) == 0 ? indented : $" \n{indented}\t\r\n"), MustLoad: true);
                }

            case "header: settings changed":
                {
                    var root = HeaderJson();
                    var settings = root["Settings"]!.AsObject();
                    string[] names = ["LearningRate", "Seed", "BatchSize", "Shuffle", "TrainImages"];
                    var name = names[random.Next(names.Length)];
                    settings[name] = name switch
                    {
                        "LearningRate" => JsonValue.Create(0.5),
                        "Shuffle" => JsonValue.Create(!settings[name]!.GetValue<bool>()),
                        _ => JsonValue.Create(12345),
                    };
                    return new FuzzCase(0, string.Empty, WithHeader(root.ToJsonString()), MustLoad: true);
                }

            case "header: history values changed":
                {
                    var root = HeaderJson();
                    var epoch = root["History"]!.AsArray()[random.Next(root["History"]!.AsArray().Count)]!;
                    epoch["TrainLossMean"] = random.NextDouble() * 10;
                    epoch["ValidationAccuracy"] = random.Next(2) == 0 ? null : JsonValue.Create(99.5);
                    epoch["TrainDuration"] = "01:02:03.4567890";
                    return new FuzzCase(0, string.Empty, WithHeader(root.ToJsonString()), MustLoad: true);
                }

            case "weights mutated":
                {
                    // The rest of the checkpoint is intact, so the weights decide: loadable exactly when they are a valid ConvNet file.
                    var inner = _weights.Make(seed, index);
                    var bytes = Resealed(image with { Weights = inner.Bytes });
                    return SafeTensorsImage.Check(inner.Bytes).IsLoadableConvNet
                        ? new FuzzCase(0, inner.Mutation, bytes, MustLoad: true)
                        : new FuzzCase(0, inner.Mutation, bytes, inner.MustRefuseWith ?? FuzzCase.AnyReason);
                }

            case "optimizer: type name":
                {
                    string[] names = ["Adam", "SGD", string.Empty, "FusedAdam ", new string('A', 300), "Fused\u00c4dam"];
                    var nameLength = (int)_image.Optimizer[0];
                    byte[] optimizer = [.. AdamStateLayout.NetString(names[random.Next(names.Length)]), .. _image.Optimizer[(1 + nameLength)..]];
                    return random.Next(4) == 0
                        ? Refuse(Resealed(image with { Optimizer = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, .. _image.Optimizer[(1 + nameLength)..]] }))
                        : Refuse(Resealed(image with { Optimizer = optimizer }));
                }

            case "optimizer: counts":
                {
                    var at = random.Next(2) == 0 ? _layout.GroupCountAt : _layout.StateCountAt;
                    ulong[] counts = [0, 2, 5, 7, 127, 1UL << 35, ulong.MaxValue >> 1];
                    return Refuse(Resealed(image with { Optimizer = Replace(_image.Optimizer, at, 1, AdamStateLayout.Leb(counts[random.Next(counts.Length)])) }));
                }

            case "optimizer: option out of range":
                {
                    var optionsAt = _layout.OptionsAt[0];
                    var field = random.Next(6);
                    double[] values = field switch
                    {
                        0 or 1 => [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.01, 0],
                        2 or 3 => [double.NaN, 1.0, 1.5, -0.1, double.PositiveInfinity],
                        4 => [double.NaN, -1e-8, double.PositiveInfinity],
                        _ => [double.NaN, -0.1, double.PositiveInfinity],
                    };
                    var bytes = new byte[8];
                    BinaryPrimitives.WriteDoubleLittleEndian(bytes, values[random.Next(values.Length)]);
                    return Refuse(Resealed(image with { Optimizer = Replace(_image.Optimizer, optionsAt + (8 * field), 8, bytes) }));
                }

            case "optimizer: flag byte":
                {
                    var state = _layout.States[random.Next(_layout.States.Count)];
                    int[] flags = [_layout.OptionsAt[0] + 48, _layout.OptionsAt[0] + 49, state.HasMaxAt];
                    byte[] values = [1, 2, 0xFF];
                    return Refuse(Resealed(image with { Optimizer = Replace(_image.Optimizer, flags[random.Next(flags.Length)], 1, [values[random.Next(values.Length)]]) }));
                }

            case "optimizer: step negative":
                {
                    var state = _layout.States[random.Next(_layout.States.Count)];
                    var bytes = new byte[8];
                    BinaryPrimitives.WriteInt64LittleEndian(bytes, random.Next(2) == 0 ? -1 : long.MinValue);
                    return Refuse(Resealed(image with { Optimizer = Replace(_image.Optimizer, state.StepAt, 8, bytes) }));
                }

            case "optimizer: tensor dtype":
                {
                    var tensor = RandomTensor(random);
                    ulong[] dtypes = [0, 5, 7, 11, 15, 200, 1UL << 40];
                    return Refuse(Resealed(image with { Optimizer = Replace(_image.Optimizer, tensor.DTypeAt, 1, AdamStateLayout.Leb(dtypes[random.Next(dtypes.Length)])) }));
                }

            case "optimizer: tensor rank":
                {
                    var tensor = RandomTensor(random);
                    ulong[] ranks = [0, 3, 5, 64, 1UL << 28, 1UL << 40, (1UL << 63) + 4, ulong.MaxValue];
                    return Refuse(Resealed(image with { Optimizer = Replace(_image.Optimizer, tensor.RankAt, 1, AdamStateLayout.Leb(ranks[random.Next(ranks.Length)])) }));
                }

            case "optimizer: tensor dimensions":
                {
                    var tensor = RandomTensor(random);
                    var (at, value) = tensor.Dimensions[random.Next(tensor.Dimensions.Count)];
                    ulong[] values = [(ulong)value + 1, (ulong)Math.Max(0, value - 1), 0, 1UL << 31, 1UL << 62, (ulong)value * 2];
                    var length = AdamStateLayout.Leb((ulong)value).Length;
                    var replacement = values[random.Next(values.Length)];
                    return replacement == (ulong)value
                        ? new FuzzCase(0, string.Empty, _seed, MustLoad: true)
                        : Refuse(Resealed(image with { Optimizer = Replace(_image.Optimizer, at, length, AdamStateLayout.Leb(replacement)) }));
                }

            case "optimizer: NaN or infinite moment":
                {
                    var tensor = RandomTensor(random);
                    uint[] bad = [0x7FC0_0000, 0xFFC0_0000, 0x7F80_0001, 0x7F80_0000, 0xFF80_0000];
                    var bytes = new byte[4];
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes, bad[random.Next(bad.Length)]);
                    var at = tensor.DataAt + (4 * random.Next(tensor.DataLength / 4));
                    return Refuse(Resealed(image with { Optimizer = Replace(_image.Optimizer, at, 4, bytes) }), "NaN or infinite");
                }

            case "optimizer: truncated":
                return Refuse(Resealed(image with { Optimizer = _image.Optimizer[..random.Next(_image.Optimizer.Length)] }));
            case "optimizer: trailing bytes":
                {
                    var extra = new byte[random.Next(1, 65)];
                    random.NextBytes(extra);
                    return Refuse(Resealed(image with { Optimizer = [.. _image.Optimizer, .. extra] }));
                }

            case "optimizer: moments changed":
                {
                    var optimizer = (byte[])_image.Optimizer.Clone();
                    for (var n = random.Next(1, 20); n > 0; n--)
                    {
                        // First moments take any sign; second moments (averages of squares) only non-negative values.
                        var state = _layout.States[random.Next(_layout.States.Count)];
                        var second = random.Next(2) == 0;
                        var tensor = second ? state.ExpAvgSq : state.ExpAvg;
                        var at = tensor.DataAt + (4 * random.Next(tensor.DataLength / 4));
                        var value = (float)random.NextDouble();
                        BinaryPrimitives.WriteSingleLittleEndian(optimizer.AsSpan(at), second ? value : value - 0.5f);
                    }

                    return new FuzzCase(0, string.Empty, Resealed(image with { Optimizer = optimizer }), MustLoad: true);
                }

            case "optimizer: step changed":
                {
                    var optimizer = (byte[])_image.Optimizer.Clone();
                    BinaryPrimitives.WriteInt64LittleEndian(optimizer.AsSpan(_layout.States[random.Next(_layout.States.Count)].StepAt), random.Next(0, 100_000));
                    return new FuzzCase(0, string.Empty, Resealed(image with { Optimizer = optimizer }), MustLoad: true);
                }

            case "optimizer: learning rate changed":
                {
                    var optimizer = (byte[])_image.Optimizer.Clone();
                    BinaryPrimitives.WriteDoubleLittleEndian(optimizer.AsSpan(_layout.OptionsAt[0] + (8 * random.Next(2))), 1e-6 + random.NextDouble());
                    return new FuzzCase(0, string.Empty, Resealed(image with { Optimizer = optimizer }), MustLoad: true);
                }

            case "resealed: byte flips":
                {
                    var content = image.Content();
                    for (var flips = random.Next(1, 9); flips > 0; flips--)
                    {
                        content[random.Next(content.Length)] ^= (byte)(1 << random.Next(8));
                    }

                    return new FuzzCase(0, string.Empty, CheckpointImage.Seal(content));
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(mutation), mutation, "Unknown mutation.");
        }
    }

    private static FuzzCase Refuse(byte[] bytes, string reason = FuzzCase.AnyReason) => new(0, string.Empty, bytes, reason);

    private static byte[] Replace(byte[] bytes, int at, int length, byte[] replacement) => [.. bytes[..at], .. replacement, .. bytes[(at + length)..]];

    private static byte[] Resealed(CheckpointImage image) => image.Sealed();

    private AdamStateLayout.TensorField RandomTensor(Random random)
    {
        var state = _layout.States[random.Next(_layout.States.Count)];
        return random.Next(2) == 0 ? state.ExpAvg : state.ExpAvgSq;
    }

    private JsonObject HeaderJson() => JsonNode.Parse(_image.Header)!.AsObject();

    private byte[] WithHeader(string json) => Resealed(_image with { Header = Encoding.UTF8.GetBytes(json) });

    private FuzzCase HeaderEdit(Random random, Action<JsonObject, string> edit, bool mustRefuse, bool mustChangeType = false)
    {
        var root = HeaderJson();
        string[] paths = ["Architecture", "CompletedEpochs", "History", "Settings", "History[0]", "History[0].Epoch", "History[0].TrainLossMean", "History[0].TrainDuration", "Settings.LearningRate", "Settings.Seed", "Settings.BatchSize"];
        var path = paths[random.Next(paths.Length)];
        var (parent, name) = path switch
        {
            "History[0]" => ((JsonNode)root["History"]!, "0"),
            _ when path.StartsWith("History[0].", StringComparison.Ordinal) => (root["History"]![0]!, path["History[0].".Length..]),
            _ when path.StartsWith("Settings.", StringComparison.Ordinal) => (root["Settings"]!, path["Settings.".Length..]),
            _ => (root, path),
        };
        if (parent is JsonArray array)
        {
            if (mustChangeType)
            {
                array[0] = JsonValue.Create("x");
            }
            else
            {
                array[0] = null;
            }
        }
        else
        {
            edit(parent.AsObject(), name);
        }

        var json = root.ToJsonString();
        return new FuzzCase(0, path, WithHeader(json), mustRefuse ? FuzzCase.AnyReason : null);
    }
}
