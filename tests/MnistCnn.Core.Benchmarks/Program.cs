using MnistCnn.Core.Benchmarks;

// Usage: dotnet run -c Release --project tests/MnistCnn.Core.Benchmarks -- data <folder with the MNIST IDX files>
if (args is ["data", var folder])
{
    return DataBenchmark.Run(folder);
}

Console.Error.WriteLine("Usage: MnistCnn.Core.Benchmarks data <folder holding train-/t10k- IDX files>");
return 2;
