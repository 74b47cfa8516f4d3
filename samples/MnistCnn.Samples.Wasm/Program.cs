using Microsoft.AspNetCore.Components.WebAssembly.Hosting;
using MnistCnn.Samples.Wasm;

// ./build.sh wasm publishes these files and serves them; the classifier then runs in the browser tab.
var builder = WebAssemblyHostBuilder.CreateDefault(args);
builder.RootComponents.Add<DigitPad>("#app");
await builder.Build().RunAsync();
