using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Training;

/// <summary>
/// A training checkpoint file: the model's weights, the optimizer's state and the history so far, behind a
/// header that records the architecture and the run's settings, and sealed with a SHA-256 of the content.
/// </summary>
/// <remarks>
/// Layout: magic <c>MNCKPT02</c>, then three length-prefixed (int64, little-endian) sections: JSON header,
/// model weights (safetensors), optimizer state (TorchSharp's format); then the SHA-256 of everything before
/// it. Checkpoints are written at epoch ends, so the loader position is the number of completed epochs.
/// Torch's global generator is not part of a run (the shuffled orders come from the run's seed), so it is
/// neither saved nor restored.
/// <para>
/// Restoring checks everything before it changes anything: the seal, the sections (which must fill the file),
/// the header (strict JSON: every field present and of its type, no unknown or repeated field, a history of
/// epochs 1..n as long as the completed count), the weights (<see cref="SafeTensorsFile"/>) and the optimizer
/// state (<see cref="OptimizerStateCheck"/>). A refused checkpoint leaves the model and optimizer as they were.
/// </para>
/// </remarks>
internal static partial class TrainingCheckpoint
{
    private static readonly byte[] Magic = "MNCKPT02"u8.ToArray();

    public static void Save(string path, nn.Module model, OptimizerHelper optimizer, IReadOnlyList<EpochResult> history, CheckpointSettings settings)
    {
        var header = new CheckpointHeader(ModelWeights.Describe(model), history.Count, history.ToArray(), settings);
        using var optimizerState = new MemoryStream();
        using (var writer = new BinaryWriter(optimizerState, Encoding.UTF8, leaveOpen: true))
        {
            optimizer.save_state_dict(writer);
        }

        using var body = new MemoryStream();
        body.Write(Magic);
        WriteSection(body, JsonSerializer.SerializeToUtf8Bytes(header, HeaderJson.Default.CheckpointHeader));
        WriteSection(body, SafeTensorsFormat.Write(model.state_dict()));
        WriteSection(body, optimizerState.ToArray());
        body.Write(SHA256.HashData(body.GetBuffer().AsSpan(0, (int)body.Length)));
        AtomicFile.Write(path, body.GetBuffer().AsSpan(0, (int)body.Length));
    }

    /// <summary>
    /// Restores a checkpoint into the model and optimizer and appends its history; returns the completed
    /// epochs (the loader position) and the settings of the run that wrote it.
    /// </summary>
    public static (int CompletedEpochs, CheckpointSettings Settings) Restore(string path, nn.Module model, OptimizerHelper optimizer, List<EpochResult> history)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < Magic.Length + SHA256.HashSizeInBytes || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new ModelFileException(path, "is not a MnistCnn.Core training checkpoint (wrong signature).");
        }

        var content = bytes.AsSpan(0, bytes.Length - SHA256.HashSizeInBytes);
        if (!SHA256.HashData(content).AsSpan().SequenceEqual(bytes.AsSpan(content.Length)))
        {
            throw new ModelFileException(path, "is damaged: its content does not match its SHA-256 (truncated or modified).");
        }

        var offset = Magic.Length;
        var headerBytes = ReadSection(content, ref offset, path);
        var weights = ReadSection(content, ref offset, path);
        var optimizerState = ReadSection(content, ref offset, path);
        if (offset != content.Length)
        {
            throw new ModelFileException(path, $"is damaged: {content.Length - offset} bytes follow its three sections.");
        }

        var header = ReadHeader(headerBytes, path);
        var architecture = ModelWeights.Describe(model);
        if (header.Architecture != architecture)
        {
            throw new ModelFileException(path, $"was written from a model with parameters {{{header.Architecture}}}, but this model has {{{architecture}}}.");
        }

        // Both checks come before either copy, so a refused file changes neither the model nor the optimizer.
        OptimizerStateCheck.Validate(optimizerState, optimizer, path);
        ModelWeights.LoadBytes(model, weights, path);
        using (var reader = new BinaryReader(new MemoryStream(optimizerState.ToArray()), Encoding.UTF8))
        {
            optimizer.load_state_dict(reader);
        }

        history.AddRange(header.History);
        return (header.CompletedEpochs, header.Settings);
    }

    private static CheckpointHeader ReadHeader(ReadOnlySpan<byte> bytes, string path)
    {
        CheckpointHeader? header;
        try
        {
            header = JsonSerializer.Deserialize(bytes, HeaderJson.Default.CheckpointHeader);
        }
        catch (JsonException e)
        {
            throw new ModelFileException(path, $"has a malformed header ({e.Message}).", e);
        }

        if (header is null)
        {
            throw new ModelFileException(path, "has an empty header.");
        }

        for (var i = 0; i < header.History.Length; i++)
        {
            if (header.History[i]?.Epoch != i + 1)
            {
                throw new ModelFileException(path, $"has a malformed header: history entry {i} is not epoch {i + 1}.");
            }
        }

        if (header.CompletedEpochs != header.History.Length)
        {
            throw new ModelFileException(path, $"has a malformed header: {header.CompletedEpochs} completed epochs, but a history of {header.History.Length}.");
        }

        return header;
    }

    private static void WriteSection(MemoryStream stream, ReadOnlySpan<byte> section)
    {
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, section.Length);
        stream.Write(length);
        stream.Write(section);
    }

    private static ReadOnlySpan<byte> ReadSection(ReadOnlySpan<byte> content, ref int offset, string path)
    {
        var length = offset + 8 <= content.Length ? BinaryPrimitives.ReadInt64LittleEndian(content[offset..]) : -1;
        if (length < 0 || length > content.Length - offset - 8)
        {
            throw new ModelFileException(path, "is damaged: a section runs past the end of the file.");
        }

        var section = content.Slice(offset + 8, (int)length);
        offset += 8 + (int)length;
        return section;
    }

    private sealed record CheckpointHeader(string Architecture, int CompletedEpochs, EpochResult[] History, CheckpointSettings Settings);

    // Strict, as JsonSerializerOptions.Strict: a missing, null, unknown or repeated field is damage, not a default.
    // Generated at build time, so the header is read and written without reflection and survives trimming.
    [JsonSourceGenerationOptions(
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true)]
    [JsonSerializable(typeof(CheckpointHeader))]
    private sealed partial class HeaderJson : JsonSerializerContext;
}

/// <summary>
/// The settings that decide a run's numbers, recorded in its checkpoints (the epoch count is not among them, but a
/// one-cycle schedule's step count is). The fields after <see cref="TrainImages"/> are optional, so checkpoints
/// written before they existed read as runs without them: unaugmented Adam, no scheduler, no clipping.
/// <see cref="Momentum"/> and <see cref="Nesterov"/> are recorded for SGD only.
/// </summary>
internal sealed record CheckpointSettings(
    double LearningRate,
    double Beta1,
    double Beta2,
    double Epsilon,
    double WeightDecay,
    long Seed,
    int BatchSize,
    bool Shuffle,
    bool DropLast,
    int TrainImages,
    string? Augmentation = null,
    string Optimizer = nameof(TrainingOptimizer.Adam),
    double? Momentum = null,
    bool? Nesterov = null,
    string? LearningRateScheduler = null,
    double? GradientClipNorm = null,
    double LabelSmoothing = 0)
{
    public static CheckpointSettings Of(TrainerOptions options, DigitDataLoader trainLoader) => new(
        options.LearningRate,
        options.Beta1,
        options.Beta2,
        options.Epsilon,
        options.WeightDecay,
        options.Seed,
        trainLoader.Options.BatchSize,
        trainLoader.Options.Shuffle,
        trainLoader.Options.DropLast,
        trainLoader.Dataset.Count,
        trainLoader.Options.Augmentation?.Describe(),
        options.Optimizer.ToString(),
        options.Optimizer == TrainingOptimizer.Sgd ? options.Momentum : null,
        options.Optimizer == TrainingOptimizer.Sgd ? options.Nesterov : null,
        options.LearningRateScheduler?.Describe(options.Epochs, trainLoader.BatchCount),
        options.GradientClipNorm,
        options.LabelSmoothing);
}
