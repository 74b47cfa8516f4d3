using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MnistCnn.Core.Data;
using MnistCnn.Core.Data.Download;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Training;

namespace MnistCnn.Core.DependencyInjection;

/// <summary>Registers the library's services in a <see cref="IServiceCollection"/>.</summary>
public static class MnistCnnServiceCollectionExtensions
{
    /// <summary>
    /// Registers, as singletons, <see cref="ITrainer"/> (a <see cref="Trainer"/>, also registered as itself),
    /// <see cref="MnistDownloader"/> and <see cref="DigitClassifier"/> (thread-safe; the pretrained model unless
    /// <see cref="MnistCnnOptions.ClassifierWeightsPath"/> names a weights file), built from <c>IOptions&lt;MnistCnnOptions&gt;</c> and logging through the
    /// application's <see cref="ILoggerFactory"/> when one is registered (none otherwise).
    /// </summary>
    /// <remarks>
    /// Services already registered are kept (<c>TryAdd</c>), so an application or a test can substitute its own;
    /// calling this method again only adds <paramref name="configure"/>.
    /// </remarks>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Sets the options; may be <see langword="null"/> to keep the defaults or configuration-bound values.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddMnistCnn(this IServiceCollection services, Action<MnistCnnOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<MnistCnnOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton(provider => new Trainer(Options(provider).Trainer, Logger<Trainer>(provider)));
        services.TryAddSingleton<ITrainer>(provider => provider.GetRequiredService<Trainer>());
        services.TryAddSingleton(provider => new MnistDownloader(Options(provider).Download, Logger<MnistDownloader>(provider)));
        services.TryAddSingleton(provider => Options(provider).ClassifierWeightsPath is { } path
            ? DigitClassifier.Load(path)
            : DigitClassifier.Pretrained());
        return services;
    }

    private static MnistCnnOptions Options(IServiceProvider provider) =>
        provider.GetRequiredService<IOptions<MnistCnnOptions>>().Value;

    private static ILogger<T>? Logger<T>(IServiceProvider provider) =>
        provider.GetService<ILoggerFactory>()?.CreateLogger<T>();
}
