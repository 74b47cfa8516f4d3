using System.Buffers.Binary;
using System.Text.Json.Nodes;
using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Reliability.Fuzzing;
using MnistCnn.Core.Training;

namespace MnistCnn.Core.Tests.Training;

/// <summary>
/// Checkpoints damaged inside a valid seal (as the fuzz tests found them): each is refused with
/// <see cref="ModelFileException"/> naming the file, before the model or optimizer changes.
/// </summary>
[Collection(TorchGlobalState.Name)]
public sealed class TrainingCheckpointTests : IDisposable
{
    private static readonly TrainerOptions Cpu = new() { Device = TrainingDevice.Cpu, Epochs = 1, Seed = 3, Threads = 1 };

    private readonly TempDirectory _folder = new();
    private readonly DigitDataset _train = LearnableDigits.Make(20);
    private readonly CheckpointImage _image;

    public TrainingCheckpointTests()
    {
        var path = _folder.File("seed.ckpt");
        using var model = new ConvNet(seed: 0);
        new Trainer(Cpu with { CheckpointPath = path }).Fit(model, new DigitDataLoader(_train));
        _image = CheckpointImage.Split(File.ReadAllBytes(path));
    }

    public static TheoryData<string, string> HeaderEdits => new()
    {
        { "History", "removed" },
        { "Settings", "null" },
        { "CompletedEpochs", "2" },
        { "History[0]", "null" },
        { "Architecture", "duplicated" },
    };

    public void Dispose()
    {
        _train.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public void Resume_BytesAfterTheSectionsUnderAValidSeal_ThrowsModelFileException()
    {
        var path = Write(CheckpointImage.Seal([.. _image.Content(), 1, 2, 3]));

        Resuming(path).Should().Throw<ModelFileException>().WithMessage($"{path}: is damaged: 3 bytes follow its three sections.");
    }

    [Theory]
    [MemberData(nameof(HeaderEdits))]
    public void Resume_HeaderFieldMissingNullOrInconsistent_ThrowsModelFileException(string field, string edit)
    {
        var header = JsonNode.Parse(_image.Header)!.AsObject();
        var json = (field, edit) switch
        {
            (_, "duplicated") => System.Text.Encoding.UTF8.GetString(_image.Header).Insert(1, $"\"{field}\":\"x\","),
            (_, "removed") => Edited(h => h.Remove(field)),
            ("History[0]", _) => Edited(h => h["History"]![0] = null),
            (_, "null") => Edited(h => h[field] = null),
            _ => Edited(h => h[field] = int.Parse(edit, System.Globalization.CultureInfo.InvariantCulture)),
        };
        var path = Write(_image with { Header = System.Text.Encoding.UTF8.GetBytes(json) });

        Resuming(path).Should().Throw<ModelFileException>().WithMessage($"{path}: has a malformed header*");

        string Edited(Action<JsonObject> change)
        {
            change(header);
            return header.ToJsonString();
        }
    }

    [Fact]
    public void Resume_OptimizerStateDeclaringAHugeRank_ThrowsModelFileExceptionWithoutAllocatingIt()
    {
        // A rank of 2^28: TorchSharp's reader would allocate 8 bytes per dimension (2 GiB) before reading any.
        var layout = AdamStateLayout.Parse(_image.Optimizer);
        var rankAt = layout.States[0].ExpAvg.RankAt;
        var path = Write(_image with { Optimizer = [.. _image.Optimizer[..rankAt], .. AdamStateLayout.Leb(1UL << 28), .. _image.Optimizer[(rankAt + 1)..]] });

        var before = GC.GetAllocatedBytesForCurrentThread();
        Resuming(path).Should().Throw<ModelFileException>().WithMessage($"{path}: is damaged: its optimizer state gives exp_avg of parameter 0 268435456 dimensions*");
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(16 * 1024 * 1024);
    }

    [Theory]
    [InlineData(0x7FC0_0000u)]
    [InlineData(0xFF80_0000u)]
    public void Resume_NaNOrInfiniteOptimizerMoment_ThrowsNamingTheValue(uint bits)
    {
        var tensor = AdamStateLayout.Parse(_image.Optimizer).States[2].ExpAvg;
        var optimizer = (byte[])_image.Optimizer.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(optimizer.AsSpan(tensor.DataAt + 8), bits);
        var path = Write(_image with { Optimizer = optimizer });

        Resuming(path).Should().Throw<ModelFileException>()
            .WithMessage($"{path}: is damaged: its optimizer state holds a NaN or infinite value in exp_avg of parameter 2 at element 2*");
    }

    [Theory]
    [InlineData("RMSprop")]
    [InlineData("Adam")]
    public void Resume_OptimizerStateOfAnUnsupportedOptimizer_ThrowsModelFileException(string name)
    {
        var nameLength = _image.Optimizer[0];
        var path = Write(_image with { Optimizer = [.. AdamStateLayout.NetString(name), .. _image.Optimizer[(1 + nameLength)..]] });

        Resuming(path).Should().Throw<ModelFileException>().WithMessage($"{path}: is damaged: its optimizer state was written by optimizer '{name}', not FusedAdam*");
    }

    [Fact]
    public void Resume_OptimizerStateOfAnotherSupportedOptimizer_ThrowsNamingBoth()
    {
        var nameLength = _image.Optimizer[0];
        var path = Write(_image with { Optimizer = [.. AdamStateLayout.NetString("AdamW"), .. _image.Optimizer[(1 + nameLength)..]] });

        Resuming(path).Should().Throw<ModelFileException>().WithMessage($"{path}: holds the state of the AdamW optimizer, but this run trains with Adam*");
    }

    [Fact]
    public void Resume_TruncatedOptimizerState_ThrowsModelFileExceptionAndLeavesTheModelUnchanged()
    {
        var path = Write(_image with { Optimizer = _image.Optimizer[..^1] });
        using var model = new ConvNet(seed: 5);
        var before = Weights(model);

        var act = () => new Trainer(Cpu).Resume(path, model, new DigitDataLoader(_train));

        act.Should().Throw<ModelFileException>().WithMessage($"{path}: is damaged: its optimizer state ends inside*");
        Weights(model).Should().Equal(before);
    }

    [Fact]
    public void Resume_HeaderWithoutAugmentationSetting_ResumesAsAnUnaugmentedRun()
    {
        // Checkpoints written before loaders could augment have no Settings.Augmentation.
        var header = JsonNode.Parse(_image.Header)!.AsObject();
        header["Settings"]!.AsObject().Remove("Augmentation").Should().BeTrue();
        var path = Write(_image with { Header = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString()) });
        using var model = new ConvNet(seed: 5);
        var logger = new ListLogger();

        var history = new Trainer(Cpu with { Epochs = 2 }, logger).Resume(path, model, new DigitDataLoader(_train));

        history.Epochs.Should().HaveCount(2);
        logger.Entries.Should().NotContain(e => e.EventId.Id == 1008, "the settings are those of an unaugmented run");
    }

    private static float[] Weights(ConvNet model) =>
        [.. model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value.detach().cpu().data<float>().ToArray())];

    private Action Resuming(string path) => () =>
    {
        using var model = new ConvNet(seed: 5);
        new Trainer(Cpu).Resume(path, model, new DigitDataLoader(_train));
    };

    private string Write(CheckpointImage image) => Write(image.Sealed());

    private string Write(byte[] bytes)
    {
        var path = _folder.File($"{Guid.NewGuid():N}.ckpt");
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
