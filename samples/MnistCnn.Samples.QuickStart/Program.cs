// The README's quick start: fetch MNIST, train the case study's network, report each epoch, save the weights.
// Without a backend package, or where libtorch cannot load, the first call that needs torch (MnistDataset.Load)
// throws TorchBackendException naming the cause and the fix.
// Usage: QuickStart [data folder (mnist)] [epochs (5)]
using MnistCnn.Core.Data.Download;
using System.Globalization;
using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Core.Runtime;
using MnistCnn.Core.Training;

var folder = args.Length > 0 ? args[0] : "mnist";
var epochs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;

// The backend, libtorch version, CPU and GPUs this process sees, and what is wrong if torch cannot load.
Console.WriteLine(TorchRuntime.Describe());

await new MnistDownloader().DownloadAsync(folder);             // verified; skips files already there
using var train = MnistDataset.Load(folder, MnistSplit.Train);
using var test = MnistDataset.Load(folder, MnistSplit.Test);
using var model = new ConvNet(seed: 0);

var history = new Trainer(new TrainerOptions { Epochs = epochs }).Fit(model, new DigitDataLoader(train), new DigitDataLoader(test));
foreach (var e in history.Epochs)
{
    Console.WriteLine($"Epoch: {e.Epoch} Loss: {e.TrainLossMean:F6} Accuracy: {e.ValidationAccuracy:F2}");
}

ModelWeights.Save(model, "convnet.safetensors");               // safetensors: PyTorch reads it too
