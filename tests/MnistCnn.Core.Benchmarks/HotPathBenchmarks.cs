using BenchmarkDotNet.Attributes;
using MnistCnn.Core.Data;
using MnistCnn.Core.Evaluation;
using MnistCnn.Core.Models;
using MnistCnn.Core.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Benchmarks;

/// <summary>
/// BenchmarkDotNet micro-benchmarks of the hot paths on real MNIST (data/mnist, or MNISTCNN_BENCH_DATA):
/// loading the IDX training split, gathering a batch, one training step, one validation pass.
/// </summary>
[MemoryDiagnoser]
public class HotPathBenchmarks : IDisposable
{
    private DigitDataset? _train;
    private DigitDataset? _test;
    private DigitDataLoader? _testLoader;
    private ConvNet? _model;
    private OptimizerHelper? _optimizer;
    private Tensor? _shuffledIndices;
    private DigitBatch? _fixedBatch;
    private int _next;

    /// <summary>Torch's thread count for the run (the bench's default is 2).</summary>
    [Params(2)]
    public int Threads { get; set; }

    private static string Folder => Environment.GetEnvironmentVariable("MNISTCNN_BENCH_DATA") ?? Path.Combine("data", "mnist");

    /// <summary>Loads both splits and builds the model and optimizer once per benchmark.</summary>
    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(Threads);
        _train = MnistDataset.Load(Folder, MnistSplit.Train);
        _test = MnistDataset.Load(Folder, MnistSplit.Test);
        _testLoader = new DigitDataLoader(_test, new DigitDataLoaderOptions { BatchSize = 64 });
        _model = new ConvNet(0);
        _optimizer = new Trainer(new TrainerOptions { Device = TrainingDevice.Cpu }).CreateOptimizer(_model);
        _shuffledIndices = randperm(_train.Count, generator: new Generator(1)).narrow(0, 0, 64);
        _fixedBatch = _train.GetBatch(0, 64);
    }

    /// <summary>Reads and checks the 47 MB training images and their labels.</summary>
    [Benchmark]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "BenchmarkDotNet runs instance methods.")]
    public int IdxLoadTrain()
    {
        using var dataset = MnistDataset.Load(Folder, MnistSplit.Train);
        return dataset.Count;
    }

    /// <summary>One in-order batch of 64 (what the case study's loader asks for).</summary>
    [Benchmark]
    public int BatchGatherInOrder()
    {
        var start = _next;
        _next = (_next + 64) % (_train!.Count - 64);
        using var batch = _train.GetBatch(start, 64);
        return batch.Count;
    }

    /// <summary>One batch of 64 random indices (a shuffled loader).</summary>
    [Benchmark]
    public int BatchGatherShuffled()
    {
        using var batch = _train!.GetBatch(_shuffledIndices!);
        return batch.Count;
    }

    /// <summary>Forward, loss, backward and Adam step on one batch of 64, as the trainer runs it.</summary>
    [Benchmark]
    public double TrainingStep()
    {
        using var scope = NewDisposeScope();
        return Trainer.Step(_model!, _optimizer!, _fixedBatch!.Images, _fixedBatch.Labels);
    }

    /// <summary>Accuracy and loss over the 10,000 test images, as the trainer validates after each epoch.</summary>
    [Benchmark]
    public double ValidationPass() => Validator.Evaluate(_model!, _testLoader!).Accuracy;

    /// <summary>Releases the datasets, model and optimizer.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _fixedBatch?.Dispose();
        _shuffledIndices?.Dispose();
        _optimizer?.Dispose();
        _model?.Dispose();
        _test?.Dispose();
        _train?.Dispose();
        GC.SuppressFinalize(this);
    }
}
