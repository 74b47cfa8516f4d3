// Classifies pictures of handwritten digits with the MnistCnn.Core package:
//   predict [--model <file>] <image>...   one line per PNG or JPEG file, any size, colour or grey, with the
//                                         package's pretrained model unless --model names a weights file:
//                                         "<file>: <digit> (<confidence>)  0:<p> ... 9:<p>"
//   export --data <folder> --out <folder> [--count <n>] [--model <file>]
//            writes MNIST test digits as PNG files and paper-style JPEGs; with --model also expected.tsv,
//            the classifier's answers for the digits' own bytes (what ./build.sh predict-check compares)
// Exit codes: 0 done, 1 a file or the model failed (one "error: ..." line each on stderr; the other files
// are still classified), 2 bad arguments.
using MnistCnn.Core.Data.Idx;
using System.Globalization;
using MnistCnn.Core.Inference;
using MnistCnn.Samples.Predict;

const string Usage = "usage: MnistCnn.Samples.Predict predict [--model <file>] <image>... | export --data <folder> --out <folder> [--count <n>] [--model <file>]";

string? model = null, data = "data/mnist", output = null;
var (count, files) = (20, new List<string>());
var command = args.FirstOrDefault();
if (command is not ("predict" or "export"))
{
    Console.Error.WriteLine(command is null or "-h" or "--help" or "help" ? Usage : $"error: unknown command '{command}'\n{Usage}");
    return command is null or "-h" or "--help" or "help" ? 0 : 2;
}

for (var i = 1; i < args.Length; i++)
{
    string Value() => ++i < args.Length ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value");
    try
    {
        switch (args[i])
        {
            case "--model": model = Value(); break;
            case "--data": data = Value(); break;
            case "--out": output = Value(); break;
            case "--count":
                var text = Value();
                count = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
                    ? n : throw new ArgumentException($"--count needs a whole number above 0, not '{text}'");
                break;
            case var option when option.StartsWith("--", StringComparison.Ordinal): throw new ArgumentException($"unknown option '{option}'");
            case var file when command == "predict": files.Add(file); break;
            default: throw new ArgumentException($"unexpected argument '{args[i]}'");
        }
    }
    catch (ArgumentException ex)
    {
        Console.Error.WriteLine($"error: {ex.Message}\n{Usage}");
        return 2;
    }
}

var missing = command == "predict"
    ? (files.Count == 0 ? "predict needs at least one image file" : null)
    : (output is null ? "export needs --out <folder>" : null);
if (missing is not null)
{
    Console.Error.WriteLine($"error: {missing}\n{Usage}");
    return 2;
}

DigitClassifier classifier;
try
{
    if (command == "export")
    {
        Export.Run(data, output!, count, model is null ? null : DigitClassifier.Load(model));
        return 0;
    }

    classifier = model is null ? DigitClassifier.Pretrained() : DigitClassifier.Load(model);
}
catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
{
    // ModelFileException (damaged or foreign weights) and IdxFormatException (damaged data) are IOExceptions
    // whose messages name the file.
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}

var failed = 0;
foreach (var file in files)
{
    try
    {
        var (pixels, width, height) = GreyImage.Load(file);
        var prediction = classifier.PredictImage(pixels, width, height);
        var all = string.Join(' ', prediction.Probabilities.Select((p, digit) => string.Create(CultureInfo.InvariantCulture, $"{digit}:{p:F3}")));
        Console.WriteLine($"{file}: {prediction}  {all}");
    }
    catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"error: {ex.Message}");
        failed++;
    }
}

return failed == 0 ? 0 : 1;
