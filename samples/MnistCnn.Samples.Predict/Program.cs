// Uses a model saved by MnistCnn.Samples.Train (or ModelWeights.Save):
//   predict  --model <file> <image>...          class and probabilities of PNG/JPEG files
//   evaluate --model <file> [--data <folder>]   accuracy, per-class accuracy, confusion matrix, worst mistakes
//   export   --data <folder> --out <folder> [--count <n>] [--model <file>]
//            writes test digits as PNG files; with --model also expected.tsv, the model's answers computed
//            from the dataset's tensors directly (to check that predict gives the same answers)
// Exit codes: 0 done, 1 failed (file, data or model), 2 bad arguments.
using MnistCnn.Core.Data;
using MnistCnn.Core.Models;
using MnistCnn.Samples.Predict;

const string Usage =
    "usage: MnistCnn.Samples.Predict predict --model <file> <image>... | evaluate --model <file> [--data <folder>] [--worst <n>] | " +
    "export --data <folder> --out <folder> [--count <n>] [--model <file>]";

PredictArguments arguments;
try
{
    arguments = PredictArguments.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    Console.Error.WriteLine(Usage);
    return 2;
}

try
{
    switch (arguments.Command)
    {
        case "predict":
            using (var model = Classifier.LoadModel(arguments.ModelPath!))
            {
                // Every file is read and checked before the model runs, then all go through it as one batch.
                var digits = arguments.Files.Select(DigitImage.Load).ToArray();
                var probabilities = Classifier.Probabilities(model, digits);
                for (var i = 0; i < digits.Length; i++)
                {
                    Console.WriteLine(Report.Prediction(arguments.Files[i], probabilities[i]));
                }
            }

            break;
        case "evaluate":
            using (var model = Classifier.LoadModel(arguments.ModelPath!))
            using (var test = MnistDataset.Load(arguments.DataFolder, MnistSplit.Test))
            {
                Evaluation.Run(model, test, arguments.Worst);
            }

            break;
        case "export":
            using (var test = MnistDataset.Load(arguments.DataFolder, MnistSplit.Test))
            using (var model = arguments.ModelPath is null ? null : Classifier.LoadModel(arguments.ModelPath))
            {
                Export.Run(test, arguments.OutputFolder!, arguments.Count, model);
            }

            break;
        default:
            Console.WriteLine(Usage);
            break;
    }

    return 0;
}
catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
{
    // InvalidDataException: not an image. ModelFileException (damaged or foreign model) and
    // IdxFormatException (damaged data) are IOExceptions. All their messages name the file.
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}
