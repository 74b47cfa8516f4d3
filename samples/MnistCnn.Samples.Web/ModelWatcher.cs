using Microsoft.Extensions.Options;

namespace MnistCnn.Samples.Web;

/// <summary>
/// Reloads <c>--model FILE</c> in the background when it is replaced: a file-system watcher on its folder
/// wakes it at once, and it also looks every <see cref="ServiceSettings.ModelPollSeconds"/> seconds, in case
/// an event is missed (network file systems, full inotify queues). Replace the file by renaming a complete
/// file over it: a file still being written may be read half-way (it then fails to load and is retried when
/// it changes again).
/// </summary>
internal sealed class ModelWatcher(ModelStore store, IOptions<ServiceSettings> settings, ILogger<ModelWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (store.Path is not { } path)
        {
            return;
        }

        using var changed = new SemaphoreSlim(0);
        using var watcher = new FileSystemWatcher(Path.GetDirectoryName(path)!, Path.GetFileName(path))
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        void Wake(object? sender, EventArgs e) => changed.Release();
        watcher.Changed += Wake;
        watcher.Created += Wake;
        watcher.Renamed += Wake;
        watcher.Error += (_, e) => logger.WatcherFailed(path, e.GetException().Message);
        watcher.EnableRaisingEvents = true;
        logger.WatchingModel(path);

        var poll = TimeSpan.FromSeconds(settings.Value.ModelPollSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await changed.WaitAsync(poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            // One load for a burst of events (a rename raises several).
            while (changed.CurrentCount > 0)
            {
                changed.Wait(0, CancellationToken.None);
            }

            // Loading takes a few milliseconds of CPU: off the request threads' way, but on the pool as they are.
            await Task.Run(store.ReloadIfChanged, stoppingToken);
        }
    }
}
