// Writes one of the library's pretrained models from a training run of samples/MnistCnn.Samples.Train:
//   MnistCnn.Core.Pretrained --trained <folder with NAME.safetensors and summary.json> --name <NAME: convnet or lenet>
//                            --data <MNIST folder> --out <folder> --setting key=value ...
// The weights are copied byte for byte; the architecture, the settings, the SHA-256 of the four MNIST files and
// the test accuracy (computed here by DigitClassifier, managed code) go into the file's safetensors __metadata__
// and into NAME.json beside it. Nothing depends on the clock or the machine, so the same weights give
// the same bytes. Exit codes: 0 written, 1 failed, 2 bad arguments.
using MnistCnn.Core.Data.Idx;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using MnistCnn.Core;
using MnistCnn.Core.Data;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Models;

string? trained = null, data = null, output = null, name = null;
var settings = new SortedDictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--trained" when i + 1 < args.Length: trained = args[++i]; break;
        case "--data" when i + 1 < args.Length: data = args[++i]; break;
        case "--out" when i + 1 < args.Length: output = args[++i]; break;
        case "--name" when i + 1 < args.Length: name = args[++i]; break;
        case "--setting" when i + 1 < args.Length && args[i + 1].Contains('=', StringComparison.Ordinal):
            var (key, value) = (args[i + 1][..args[i + 1].IndexOf('=', StringComparison.Ordinal)], args[i + 1][(args[i + 1].IndexOf('=', StringComparison.Ordinal) + 1)..]);
            settings[key] = value;
            i++;
            break;
        default:
            Console.Error.WriteLine($"error: unexpected argument '{args[i]}'");
            Console.Error.WriteLine("usage: MnistCnn.Core.Pretrained --trained DIR --name convnet|lenet --data DIR --out DIR [--setting key=value]...");
            return 2;
    }
}

if (trained is null || data is null || output is null || name is not ("convnet" or "lenet"))
{
    Console.Error.WriteLine("usage: MnistCnn.Core.Pretrained --trained DIR --name convnet|lenet --data DIR --out DIR [--setting key=value]...");
    return 2;
}

try
{
    var weightsPath = Path.Combine(trained, $"{name}.safetensors");
    var weights = SafeTensorsFile.Parse(File.ReadAllBytes(weightsPath), weightsPath);
    var classifier = DigitClassifier.Load(weightsPath);

    var images = IdxFile.ReadImages(Path.Combine(data, "t10k-images-idx3-ubyte"));
    var labels = IdxFile.ReadLabels(Path.Combine(data, "t10k-labels-idx1-ubyte"));
    var predictions = classifier.PredictBatch(images.Pixels, images.Count);
    var correct = Enumerable.Range(0, images.Count).Count(i => predictions[i].Digit == labels[i]);
    var accuracy = (100.0 * correct / images.Count).ToString("F2", CultureInfo.InvariantCulture);

    using var summary = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(trained, "summary.json")));
    var trainerAccuracy = summary.RootElement.GetProperty("FinalAccuracy").GetDouble().ToString("F2", CultureInfo.InvariantCulture);

    var metadata = new SortedDictionary<string, string>(settings, StringComparer.Ordinal)
    {
        ["architecture"] = classifier.Architecture,
        ["model"] = $"MnistCnn.Core {classifier.Architecture}: {classifier.Weights.Description.LayerText}; input 28x28 pixels / 255",
        ["test_accuracy"] = accuracy,
        ["test_correct"] = correct.ToString(CultureInfo.InvariantCulture),
        ["test_images"] = images.Count.ToString(CultureInfo.InvariantCulture),
        ["trainer_test_accuracy"] = trainerAccuracy,
    };
    foreach (var file in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" })
    {
        using var stream = File.OpenRead(Path.Combine(data, file));
        metadata[$"sha256_{file}"] = Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    var bytes = SafeTensorsFile.Write(
        weights.Entries.OrderBy(e => e.Name, StringComparer.Ordinal).Select(e => (e.Name, e.DType, e.Shape, weights.GetBytes(e).ToArray())),
        metadata);
    Directory.CreateDirectory(output);
    var modelPath = Path.Combine(output, $"{name}.safetensors");
    AtomicFile.Write(modelPath, bytes);

    var description = new SortedDictionary<string, string>(metadata, StringComparer.Ordinal)
    {
        [$"sha256_{name}.safetensors"] = Convert.ToHexStringLower(SHA256.HashData(bytes)),
        ["size_bytes"] = bytes.Length.ToString(CultureInfo.InvariantCulture),
    };
    var json = JsonSerializer.SerializeToUtf8Bytes(description, new JsonSerializerOptions { WriteIndented = true });
    AtomicFile.Write(Path.Combine(output, $"{name}.json"), [.. json, (byte)'\n']);

    Console.WriteLine($"pretrained: {correct} of {images.Count} test images ({accuracy}%) with the managed classifier, {trainerAccuracy}% by the trainer; wrote {modelPath} ({bytes.Length} bytes) and {name}.json");
    if (accuracy != trainerAccuracy)
    {
        Console.Error.WriteLine($"error: the managed classifier's test accuracy {accuracy}% differs from the trainer's {trainerAccuracy}%");
        return 1;
    }

    return 0;
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
