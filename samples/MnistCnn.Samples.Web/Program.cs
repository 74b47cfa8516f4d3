using MnistCnn.Core.Models;
using MnistCnn.Samples.Web;

// ./build.sh web [--urls http://127.0.0.1:5000] [--model weights.safetensors]
WebApplication app;
try
{
    app = DigitWebApp.Create(args);
}
catch (Exception e) when (e is FileNotFoundException or ModelFileException or InvalidOperationException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

await app.RunAsync();
return 0;
