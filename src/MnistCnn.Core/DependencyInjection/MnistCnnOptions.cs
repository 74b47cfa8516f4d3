using MnistCnn.Core.Data;
using MnistCnn.Core.Data.Download;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Training;

namespace MnistCnn.Core.DependencyInjection;

/// <summary>
/// The library's settings in an application's container, read through <c>IOptions&lt;MnistCnnOptions&gt;</c>:
/// set them in <see cref="MnistCnnServiceCollectionExtensions.AddMnistCnn"/>'s delegate, or bind them from
/// configuration (<c>services.Configure&lt;MnistCnnOptions&gt;(configuration.GetSection("MnistCnn"))</c>).
/// </summary>
/// <remarks>
/// The services registered are singletons created on first use, so they read these settings once; later changes
/// have no effect on them.
/// </remarks>
public sealed class MnistCnnOptions
{
    /// <summary>
    /// Gets or sets the options of the registered <see cref="ITrainer"/>. Default: the case study's
    /// (<c>new TrainerOptions()</c>). <see cref="TrainerOptions"/> is immutable: assign a new one, e.g.
    /// <c>options.Trainer = options.Trainer with { Epochs = 3 }</c>.
    /// </summary>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    public TrainerOptions Trainer
    {
        get;
        set => field = value ?? throw new ArgumentNullException(nameof(value));
    } = new();

    /// <summary>Gets or sets the options of the registered <see cref="MnistDownloader"/>. Default: <c>new MnistDownloadOptions()</c>.</summary>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    public MnistDownloadOptions Download
    {
        get;
        set => field = value ?? throw new ArgumentNullException(nameof(value));
    } = new();

    /// <summary>
    /// Gets or sets the safetensors weights file the registered <see cref="DigitClassifier"/> loads, or
    /// <see langword="null"/> (the default) for the best pretrained model shipped in the package
    /// (<see cref="DigitClassifier.Pretrained()"/>). The file is read once, when the classifier is first resolved; a
    /// missing or damaged file then throws <see cref="FileNotFoundException"/> or
    /// <see cref="Models.ModelFileException"/>.
    /// </summary>
    public string? ClassifierWeightsPath { get; set; }
}
