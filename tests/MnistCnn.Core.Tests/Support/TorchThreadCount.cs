using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Support;

/// <summary>Reads torch's process-wide thread count.</summary>
internal static class TorchThreadCount
{
    /// <summary>
    /// The count read on a new thread. <c>get_num_threads</c> reports the calling thread's OpenMP setting; a thread
    /// that never ran torch work takes the process's (global) count, so a new thread reads what later work will use.
    /// The thread that continues after an await may be one of the runs' own threads, which keep their run's count.
    /// </summary>
    public static int OnANewThread()
    {
        var count = 0;
        var reader = new Thread(() => count = get_num_threads());
        reader.Start();
        reader.Join();
        return count;
    }
}
