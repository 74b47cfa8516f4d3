using System.Text;
using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Core.Tests.Reliability.Fuzzing;
using MnistCnn.Core.Training;
using TorchSharp.Modules;

namespace MnistCnn.Core.Tests.Reliability;

/// <summary>
/// Seeded mutations of the optimizer section of AdamW and SGD checkpoints, resealed so the seal does not catch
/// them: each must either be refused with <see cref="ModelFileException"/> or load exactly the bytes of the section
/// (written back, the restored state equals the section), with finite values. Any other exception is a failure.
/// </summary>
[Collection(TorchGlobalState.Name)]
public sealed class HostileOptimizerStateTests : IDisposable
{
    private const int Cases = 200;

    private readonly TempDirectory _folder = new();
    private readonly DigitDataset _train = LearnableDigits.Make(20);

    public void Dispose()
    {
        _train.Dispose();
        _folder.Dispose();
    }

    [Theory]
    [InlineData(TrainingOptimizer.Sgd)]
    [InlineData(TrainingOptimizer.AdamW)]
    public void Restore_MutatedOptimizerState_IsRefusedWithModelFileExceptionOrLoadedExactly(TrainingOptimizer kind)
    {
        var options = new TrainerOptions { Device = TrainingDevice.Cpu, Epochs = 1, Threads = 1, Optimizer = kind, Nesterov = kind == TrainingOptimizer.Sgd };
        var seed = _folder.File("seed.ckpt");
        using (var model = new ConvNet(seed: 0))
        {
            new Trainer(options with { CheckpointPath = seed }).Fit(model, new DigitDataLoader(_train));
        }

        var image = CheckpointImage.Split(File.ReadAllBytes(seed));
        var trainer = new Trainer(options);
        var (refused, loaded, failures) = (0, 0, new List<string>());
        for (var i = 0; i < Cases; i++)
        {
            var random = FuzzCase.RandomFor(series: (int)kind, index: i, salt: 7);
            var (mutation, section) = Mutate(image.Optimizer, random);
            var path = _folder.File($"case{i}.ckpt");
            File.WriteAllBytes(path, (image with { Optimizer = section }).Sealed());
            using var model = new ConvNet(seed: 1);
            using var optimizer = trainer.CreateOptimizer(model);
            try
            {
                TrainingCheckpoint.Restore(path, model, optimizer, []);
                loaded++;
                if (Problem(optimizer, section) is { } problem)
                {
                    failures.Add($"case {i} ({mutation}) loaded, but {problem}");
                }
            }
            catch (ModelFileException e) when (e.Message.StartsWith(path, StringComparison.Ordinal))
            {
                refused++;
            }
            catch (Exception e)
            {
                failures.Add($"case {i} ({mutation}) threw {e.GetType().Name}: {e.Message}");
            }
        }

        failures.Should().BeEmpty();
        (refused + loaded).Should().Be(Cases);
        refused.Should().BeGreaterThan(Cases / 2, "most mutations damage the state");
    }

    private static (string Mutation, byte[] Section) Mutate(byte[] section, Random random)
    {
        var bytes = (byte[])section.Clone();
        switch (random.Next(5))
        {
            case 0:
                for (var k = random.Next(1, 4); k > 0; k--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return ("bit flips", bytes);
            case 1:
                bytes[random.Next(Math.Min(bytes.Length, 200))] = (byte)random.Next(256); // the names, counts, options and first tensor's header
                return ("header byte replaced", bytes);
            case 2:
                return ("truncated", bytes[..random.Next(bytes.Length)]);
            case 3:
                return ("trailing bytes", [.. bytes, .. Enumerable.Range(0, random.Next(1, 9)).Select(_ => (byte)random.Next(256))]);
            default:
                var at = random.Next(bytes.Length);
                return ("byte inserted", [.. bytes[..at], (byte)random.Next(256), .. bytes[at..]]);
        }
    }

    // What TorchSharp holds after the load must be what the section said, and finite.
    private static string? Problem(OptimizerHelper optimizer, byte[] section)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var written = new MemoryStream();
        using (var writer = new BinaryWriter(written, Encoding.UTF8, leaveOpen: true))
        {
            optimizer.save_state_dict(writer);
        }

        if (!written.ToArray().AsSpan().SequenceEqual(section))
        {
            return "the restored state differs from the section";
        }

        var group = optimizer.ParamGroups.First();
        if (!(double.IsFinite(group.LearningRate) && group.LearningRate > 0))
        {
            return $"the learning rate is {group.LearningRate}";
        }

        var tensors = optimizer.state_dict().State.SelectMany(state => state switch
        {
            SGD.State s => new[] { s.momentum_buffer },
            AdamW.State a => [a.exp_avg, a.exp_avg_sq, a.max_exp_avg_sq],
            _ => throw new InvalidOperationException($"Unexpected state {state.GetType().Name}."),
        });
        return tensors.Any(t => t is not null && !t.isfinite().all().item<bool>()) ? "a state tensor holds NaN or infinite values" : null;
    }
}
