// The library on a CUDA device, checked step by step (run by eng/gpu-check.sh; see docs/performance.md#cuda):
//   MnistCnn.Core.GpuCheck smoke --json OUT
//       libtorch and the device; a 1024x1024 matmul and a conv2d's gradients on CUDA against the CPU
//   MnistCnn.Core.GpuCheck casestudy --data DIR --device cpu|cuda [--epochs 5] [--seed 0] --json OUT
//       the case study (ConvNet, Adam 0.01, batch 64, no shuffle), then the validator and
//       DigitClassifier.FromModel on the trained model, still on the device, against its own answers
//   MnistCnn.Core.GpuCheck best --data DIR --device cpu|cuda [--epochs 11] [--seed 0] --json OUT
//       the training sample's --preset best through the public API (TrainingRecipe.Best: LeNet, shuffled, augmented,
//       one-cycle Adam, label smoothing)
//   MnistCnn.Core.GpuCheck resume --data DIR --first cpu|cuda --then cpu|cuda [--epochs 2] --json OUT
//       the case study stopped after epoch 1 on --first, its checkpoint resumed on --then, against an
//       uninterrupted CPU run: accuracy and largest weight difference
//   MnistCnn.Core.GpuCheck absent --json OUT
//       CUDA asked for where none is visible: must fail with InvalidOperationException naming CUDA
// Every command writes its findings to --json (temporary name, then renamed). Exit codes: 0 the check passed,
// 1 it failed (the JSON and the last line say why), 2 bad arguments.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MnistCnn.Core.Data;
using MnistCnn.Core.Evaluation;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Models;
using MnistCnn.Core.Runtime;
using MnistCnn.Core.Training;
using MnistCnn.Core.GpuCheck;
using TorchSharp;
using static TorchSharp.torch;

CheckArguments arguments;
try
{
    arguments = CheckArguments.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    Console.Error.WriteLine(CheckArguments.Usage);
    return 2;
}

var report = new JsonObject
{
    ["command"] = arguments.Command,
    ["started_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
};
bool passed;
try
{
    passed = arguments.Command switch
    {
        "smoke" => Smoke(report),
        "casestudy" => CaseStudy(arguments, report),
        "best" => Best(arguments, report),
        "resume" => ResumeAcrossDevices(arguments, report),
        "absent" => Absent(report),
        _ => throw new InvalidOperationException($"unknown command {arguments.Command}"),
    };
}
catch (Exception ex) when (ex is not OutOfMemoryException)
{
    report["exception"] = $"{ex.GetType().FullName}: {ex.Message}";
    passed = false;
}

report["passed"] = passed;
report["runtime"] = RuntimeNode(TorchRuntime.Describe());
var json = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
var partial = arguments.JsonPath + ".partial";
File.WriteAllText(partial, json + "\n");
File.Move(partial, arguments.JsonPath, overwrite: true);
Console.WriteLine($"{arguments.Command}: {(passed ? "PASSED" : "FAILED")}{(report["exception"] is { } e ? $" ({e})" : string.Empty)}; details in {arguments.JsonPath}");
return passed ? 0 : 1;

// libtorch loads, sees a device, and computes on it what the CPU computes.
static bool Smoke(JsonObject report)
{
    var info = TorchRuntime.Describe();
    if (!info.IsAvailable || !cuda.is_available())
    {
        report["problem"] = info.Problem ?? "TorchSharp reports no CUDA device";
        return false;
    }

    using var scope = NewDisposeScope();
    var generator = new Generator(1234);
    var a = randn([1024, 1024], generator: generator);
    var b = randn([1024, 1024], generator: generator);
    var matmulError = RelativeError(a.matmul(b), a.cuda().matmul(b.cuda()).cpu());

    // A conv2d's forward and its input, weight and bias gradients, as a training step computes them.
    var x = randn([64, 3, 28, 28], generator: generator);
    var w = randn([6, 3, 3, 3], generator: generator);
    var bias = randn([6], generator: generator);
    var cpu = ConvGradients(x, w, bias);
    var gpu = ConvGradients(x.cuda(), w.cuda(), bias.cuda()).Select(t => t.cpu()).ToArray();
    var names = new[] { "output", "input_grad", "weight_grad", "bias_grad" };
    var conv = new JsonObject();
    var worst = 0.0;
    for (var i = 0; i < names.Length; i++)
    {
        var error = RelativeError(cpu[i], gpu[i]);
        conv[names[i]] = error;
        worst = Math.Max(worst, error);
    }

    report["device_name"] = DeviceName();
    report["matmul_1024_relative_error"] = matmulError;
    report["conv2d_relative_error"] = conv;
    // Largest difference over largest magnitude; cuDNN and cuBLAS may sum in another order (or in TF32 for
    // convolutions, libtorch's default), so agreement is to 1e-2 of the scale, not bit for bit.
    report["tolerance"] = 1e-2;
    Console.WriteLine($"CUDA device: {DeviceName()}; matmul relative error {matmulError:E2}, conv2d worst {worst:E2}");
    return matmulError < 1e-2 && worst < 1e-2;
}

static Tensor[] ConvGradients(Tensor x, Tensor w, Tensor bias)
{
    x = x.detach().requires_grad_(true);
    w = w.detach().requires_grad_(true);
    bias = bias.detach().requires_grad_(true);
    var y = nn.functional.conv2d(x, w, bias);
    y.square().sum().backward();
    return [y.detach(), x.grad!, w.grad!, bias.grad!];
}

static double RelativeError(Tensor expected, Tensor actual) =>
    (expected - actual).abs().max().item<float>() / Math.Max(expected.abs().max().item<float>(), 1e-30);

static string DeviceName()
{
    // TorchSharp has no get_device_name; nvidia-smi, when present, names the GPU.
    try
    {
        using var process = Process.Start(new ProcessStartInfo("nvidia-smi", "--query-gpu=name --format=csv,noheader")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        });
        var name = process!.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return name.Length > 0 ? name.Split('\n')[0].Trim() : "a CUDA device (nvidia-smi printed nothing)";
    }
    catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
    {
        return "a CUDA device (nvidia-smi not found)";
    }
}

// The case study, then the validator and the managed classifier on the model while it is still on the device.
static bool CaseStudy(CheckArguments arguments, JsonObject report)
{
    using var train = MnistDataset.Load(arguments.Data, MnistSplit.Train);
    using var test = MnistDataset.Load(arguments.Data, MnistSplit.Test);
    var testLoader = new DigitDataLoader(test, new DigitDataLoaderOptions { BatchSize = 64 });
    using var model = new ConvNet(arguments.Seed ?? 0);
    var trainer = new Trainer(new TrainerOptions { Epochs = arguments.Epochs ?? 5, LearningRate = 0.01, Seed = arguments.Seed ?? 0, Device = arguments.Device });
    var clock = Stopwatch.StartNew();
    var history = trainer.Fit(model, new DigitDataLoader(train, new DigitDataLoaderOptions { BatchSize = 64 }), testLoader, new EpochLines());
    var seconds = clock.Elapsed.TotalSeconds;
    AddHistory(report, history, seconds);
    var accuracy = history.Last!.ValidationAccuracy!.Value;

    // The model is still on the training device: the validator evaluates it there, and the classifier copies its
    // weights off it (on CUDA: off the GPU).
    var evaluation = Validator.Evaluate(model, testLoader);
    var classifier = DigitClassifier.FromModel(model);
    var modelAnswers = DeviceAnswers(model, test);
    var pixels = ImagePixels(arguments.Data);
    var classifierAnswers = classifier.PredictBatch(pixels, test.Count).Select(p => p.Digit).ToArray();
    var differing = modelAnswers.Where((digit, i) => digit != classifierAnswers[i]).Count();
    var classifierCorrect = classifierAnswers.Where((digit, i) => digit == test.GetLabel(i)).Count();
    report["model_device"] = model.parameters().First().device.ToString();
    report["validator_accuracy"] = evaluation.Accuracy;
    report["classifier_accuracy"] = 100.0 * classifierCorrect / test.Count;
    report["classifier_answers_differing_from_model"] = differing;
    Console.WriteLine(
        $"On {report["model_device"]}: validator {evaluation.Accuracy:F2}%, DigitClassifier.FromModel {100.0 * classifierCorrect / test.Count:F2}%, " +
        $"{differing} of {test.Count} answers differ from the model's own");
    return evaluation.Accuracy == accuracy && differing == 0;
}

// The model's answer for every test image, computed on the model's device.
static int[] DeviceAnswers(ConvNet model, DigitDataset test)
{
    var device = model.parameters().First().device;
    var answers = new List<int>(test.Count);
    model.eval();
    using (no_grad())
    {
        for (var start = 0; start < test.Count; start += 1000)
        {
            using var scope = NewDisposeScope();
            using var batch = test.GetBatch(start, Math.Min(1000, test.Count - start), device);
            answers.AddRange(model.call(batch.Images).argmax(1).cpu().data<long>().Select(d => (int)d));
        }
    }

    model.train();
    return [.. answers];
}

// The test images' raw pixels (784 bytes each after the IDX header of 16 bytes), as DigitClassifier takes them.
static byte[] ImagePixels(string folder) => File.ReadAllBytes(Path.Combine(folder, "t10k-images-idx3-ubyte"))[16..];

// The training sample's --preset best: the library's TrainingRecipe.Best.
static bool Best(CheckArguments arguments, JsonObject report)
{
    using var train = MnistDataset.Load(arguments.Data, MnistSplit.Train);
    using var test = MnistDataset.Load(arguments.Data, MnistSplit.Test);
    var recipe = TrainingRecipe.Best with { Epochs = arguments.Epochs ?? TrainingRecipe.Best.Epochs };
    var trainLoader = new DigitDataLoader(train, recipe.CreateLoaderOptions());
    var testLoader = new DigitDataLoader(test, new DigitDataLoaderOptions { BatchSize = 64 });
    using var model = recipe.CreateModel(arguments.Seed ?? 0);
    var trainer = new Trainer(recipe.CreateTrainerOptions(arguments.Seed ?? 0) with { Device = arguments.Device });
    var clock = Stopwatch.StartNew();
    var history = trainer.Fit(model, trainLoader, testLoader, new EpochLines());
    AddHistory(report, history, clock.Elapsed.TotalSeconds);
    return true;
}

// A run stopped after epoch 1 on one device and resumed from its checkpoint on another, against one CPU run.
static bool ResumeAcrossDevices(CheckArguments arguments, JsonObject report)
{
    var epochs = arguments.Epochs ?? 2;
    using var train = MnistDataset.Load(arguments.Data, MnistSplit.Train);
    using var test = MnistDataset.Load(arguments.Data, MnistSplit.Test);
    DigitDataLoader Loader(DigitDataset dataset) => new(dataset, new DigitDataLoaderOptions { BatchSize = 64 });
    Trainer TrainerOn(TrainingDevice device, string? checkpoint) =>
        new(new TrainerOptions { Epochs = epochs, LearningRate = 0.01, Seed = 0, Device = device, CheckpointPath = checkpoint });

    using var uninterrupted = new ConvNet(0);
    var reference = TrainerOn(TrainingDevice.Cpu, null).Fit(uninterrupted, Loader(train), Loader(test));

    var folder = Directory.CreateTempSubdirectory("gpu-check-resume-");
    try
    {
        var checkpoint = Path.Combine(folder.FullName, "checkpoint.safetensors");
        using var first = new ConvNet(0);
        using var stop = new CancellationTokenSource();
        var stopAfterFirstEpoch = new StopAfterEpoch(1, stop);
        try
        {
            TrainerOn(arguments.First, checkpoint).Fit(first, Loader(train), Loader(test), stopAfterFirstEpoch, stop.Token);
            throw new InvalidOperationException("the first run was not stopped after epoch 1");
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine($"stopped after epoch 1 on {arguments.First}; checkpoint {checkpoint}");
        }

        using var resumed = new ConvNet(0);
        var history = TrainerOn(arguments.Then, checkpoint).Resume(checkpoint, resumed, Loader(train), Loader(test));
        var weightDifference = LargestDifference(uninterrupted, resumed);
        var accuracyDifference = Math.Abs(history.Last!.ValidationAccuracy!.Value - reference.Last!.ValidationAccuracy!.Value);
        report["first_device"] = arguments.First.ToString();
        report["then_device"] = arguments.Then.ToString();
        report["resumed_on"] = history.Device;
        report["epochs"] = epochs;
        report["uninterrupted_cpu_accuracy"] = reference.Last!.ValidationAccuracy;
        report["resumed_accuracy"] = history.Last!.ValidationAccuracy;
        report["accuracy_difference_points"] = accuracyDifference;
        report["largest_weight_difference"] = weightDifference;
        Console.WriteLine(
            $"{arguments.First} -> {arguments.Then}: {history.Last!.ValidationAccuracy:F2}% (uninterrupted CPU {reference.Last!.ValidationAccuracy:F2}%), " +
            $"largest weight difference {weightDifference:E2}");

        // Another device sums in another order, so the weights agree closely rather than bit for bit.
        report["tolerance"] = new JsonObject { ["accuracy_points"] = 0.2, ["weight"] = 1e-2 };
        return history.Epochs.Count == epochs && accuracyDifference <= 0.2 && weightDifference <= 1e-2;
    }
    finally
    {
        folder.Delete(recursive: true);
    }
}

static double LargestDifference(nn.Module a, nn.Module b)
{
    var largest = 0.0;
    foreach (var ((name, x), (_, y)) in a.named_parameters().Zip(b.named_parameters()))
    {
        using var scope = NewDisposeScope();
        largest = Math.Max(largest, (x.detach().cpu() - y.detach().cpu()).abs().max().item<float>());
        _ = name;
    }

    return largest;
}

// CUDA asked for where the process sees no device: the trainer must refuse, saying so.
static bool Absent(JsonObject report)
{
    using var model = new ConvNet(0);
    using var images = new DigitDataset(new byte[64 * 784], new byte[64], 28, 28);
    try
    {
        new Trainer(new TrainerOptions { Epochs = 1, Device = TrainingDevice.Cuda }).Fit(model, new DigitDataLoader(images));
        report["problem"] = "training on TrainingDevice.Cuda went ahead without a visible CUDA device";
        return false;
    }
    catch (InvalidOperationException ex)
    {
        report["exception_type"] = ex.GetType().FullName;
        report["message"] = ex.Message;
        Console.WriteLine($"TrainingDevice.Cuda without a device: {ex.GetType().Name}: {ex.Message}");
        return ex.Message.Contains("CUDA", StringComparison.Ordinal);
    }
}

static void AddHistory(JsonObject report, TrainingHistory history, double seconds)
{
    report["device"] = history.Device;
    report["device_name"] = history.Device.StartsWith("cuda", StringComparison.OrdinalIgnoreCase) ? DeviceName() : Environment.ProcessorCount + " CPU threads available";
    report["seconds"] = seconds;
    report["final_accuracy"] = history.Last?.ValidationAccuracy;
    var epochs = new JsonArray();
    foreach (var epoch in history.Epochs)
    {
        epochs.Add(new JsonObject
        {
            ["epoch"] = epoch.Epoch,
            ["train_loss"] = epoch.TrainLossMean,
            ["accuracy"] = epoch.ValidationAccuracy,
            ["train_seconds"] = epoch.TrainDuration.TotalSeconds,
            ["validation_seconds"] = epoch.ValidationDuration.TotalSeconds,
        });
    }

    report["epochs"] = epochs;
    Console.WriteLine($"Final accuracy: {history.Last?.ValidationAccuracy:F2}% on {history.Device} in {seconds:F1} s (validation included)");
}

static JsonObject RuntimeNode(TorchRuntimeInfo info) => new()
{
    ["available"] = info.IsAvailable,
    ["backend"] = info.Backend,
    ["torchsharp"] = info.TorchSharpVersion,
    ["libtorch"] = info.LibTorchVersion,
    ["cpu_isa"] = info.CpuInstructionSet,
    ["processors"] = info.ProcessorCount,
    ["cuda_available"] = info.CudaAvailable,
    ["cuda_devices"] = info.CudaDeviceCount,
    ["problem"] = info.Problem,
};
