using MnistCnn.Samples.Web;

// ./build.sh web [--urls http://127.0.0.1:5000] [--model weights.safetensors] [--Limits:* N] [--Service:* N]
// A bad setting or model file (missing, unreadable, not loadable) ends here with one line and exit code 1.
WebApplication app;
try
{
    app = DigitWebApp.Create(args);
}
catch (Exception e) when (e is IOException or InvalidOperationException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

await app.RunAsync();
return 0;
