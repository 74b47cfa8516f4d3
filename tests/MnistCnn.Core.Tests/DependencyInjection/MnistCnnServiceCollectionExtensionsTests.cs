using MnistCnn.Core.Data.Download;
using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MnistCnn.Core.Data;
using MnistCnn.Core.DependencyInjection;
using MnistCnn.Core.Inference;
using MnistCnn.Core.Models;
using MnistCnn.Core.Training;

namespace MnistCnn.Core.Tests.DependencyInjection;

[Collection(TorchGlobalState.Name)]
public sealed class MnistCnnServiceCollectionExtensionsTests
{
    [Fact]
    public void AddMnistCnn_RealContainer_ResolvesEachServiceWithTheConfiguredOptions()
    {
        var services = new ServiceCollection();
        services.AddMnistCnn(options =>
        {
            options.Trainer = options.Trainer with { Epochs = 2, Device = TrainingDevice.Cpu, Seed = 8 };
            options.Download.RetriesPerMirror = 1;
        });
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var trainer = provider.GetRequiredService<ITrainer>();
        var downloader = provider.GetRequiredService<MnistDownloader>();

        trainer.Should().BeOfType<Trainer>().Which.Options.Should().Be(new TrainerOptions { Epochs = 2, Device = TrainingDevice.Cpu, Seed = 8 });
        provider.GetRequiredService<Trainer>().Should().BeSameAs(trainer);
        provider.GetRequiredService<ITrainer>().Should().BeSameAs(trainer, "the trainer is a singleton");
        downloader.Should().NotBeNull();
        provider.GetRequiredService<IOptions<MnistCnnOptions>>().Value.Download.RetriesPerMirror.Should().Be(1);
    }

    [Fact]
    public void AddMnistCnn_WithTheAppsLoggerFactory_TheResolvedTrainerLogsThroughIt()
    {
        var factory = new RecordingLoggerFactory();
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(factory);
        services.AddMnistCnn(options => options.Trainer = new TrainerOptions { Epochs = 1, Device = TrainingDevice.Cpu });
        using var provider = services.BuildServiceProvider();
        using var train = LearnableDigits.Make(16);
        using var model = new ConvNet(seed: 0);

        provider.GetRequiredService<ITrainer>().Fit(model, new DigitDataLoader(train));

        factory.Categories.Should().Contain(typeof(Trainer).FullName);
        factory.Messages.Should().Contain(m => m.StartsWith("Training on cpu", StringComparison.Ordinal));
    }

    [Fact]
    public void AddMnistCnn_ServiceAlreadyRegistered_KeepsTheApplicationsOwn()
    {
        var own = new Trainer(new TrainerOptions { Epochs = 9 });
        var services = new ServiceCollection();
        services.AddSingleton<ITrainer>(own);

        services.AddMnistCnn();
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<ITrainer>().Should().BeSameAs(own);
    }

    [Fact]
    public void AddMnistCnn_NoWeightsPath_ResolvesThePretrainedClassifierOnce()
    {
        var services = new ServiceCollection();
        services.AddMnistCnn();
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var classifier = provider.GetRequiredService<DigitClassifier>();

        provider.GetRequiredService<DigitClassifier>().Should().BeSameAs(classifier, "the classifier is a singleton");
        var pixels = new byte[DigitImage.PixelCount];
        classifier.Predict(pixels).Should().Be(DigitClassifier.Pretrained().Predict(pixels));
        classifier.Metadata.Should().BeEquivalentTo(DigitClassifier.Pretrained().Metadata);
    }

    [Fact]
    public void AddMnistCnn_WeightsPath_ResolvesAClassifierOverThatFile()
    {
        using var folder = new TempDirectory();
        var path = folder.File("other.safetensors");
        using (var model = new ConvNet(seed: 3))
        {
            ModelWeights.Save(model, path);
        }

        var services = new ServiceCollection();
        services.AddMnistCnn(options => options.ClassifierWeightsPath = path);
        using var provider = services.BuildServiceProvider();

        var pixels = Enumerable.Range(0, DigitImage.PixelCount).Select(i => (byte)(i * 7)).ToArray();
        provider.GetRequiredService<DigitClassifier>().Predict(pixels).Should().Be(DigitClassifier.Load(path).Predict(pixels));
        provider.GetRequiredService<DigitClassifier>().Predict(pixels).Should().NotBe(DigitClassifier.Pretrained().Predict(pixels));
    }

    [Fact]
    public void AddMnistCnn_NullServices_Throws()
    {
        var act = () => MnistCnnServiceCollectionExtensions.AddMnistCnn(null!);

        act.Should().Throw<ArgumentNullException>().WithParameterName("services");
    }

    [Fact]
    public void Options_NullTrainerOptions_Throws()
    {
        var act = () => new MnistCnnOptions { Trainer = null! };

        act.Should().Throw<ArgumentNullException>();
    }

    private sealed class RecordingLoggerFactory : ILoggerFactory
    {
        public ConcurrentQueue<string> Categories { get; } = new();

        public ConcurrentQueue<string> Messages { get; } = new();

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName)
        {
            Categories.Enqueue(categoryName);
            return new Recorder(Messages);
        }

        public void Dispose()
        {
        }

        private sealed class Recorder(ConcurrentQueue<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                messages.Enqueue(formatter(state, exception));
        }
    }
}
