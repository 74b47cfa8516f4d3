using Microsoft.Extensions.Options;

namespace MnistCnn.Samples.Web.Tests;

/// <summary>The decoding budget: large images wait in arrival order until their pixels fit; small ones never wait.</summary>
public sealed class DecodingBudgetTests
{
    private const long Budget = 64 * 1024;

    [Fact]
    public async Task TakeAsync_LargeImagesOverBudget_WaitInOrderUntilPixelsAreGivenBack()
    {
        var budget = NewBudget();
        var first = await budget.TakeAsync(40_000, CancellationToken.None);

        var second = budget.TakeAsync(40_000, CancellationToken.None).AsTask();
        var third = budget.TakeAsync(20_000, CancellationToken.None).AsTask();

        // The third would fit beside the first, but it arrived after the second: first come, first served.
        second.IsCompleted.Should().BeFalse();
        third.IsCompleted.Should().BeFalse();
        first.Dispose();
        using (await second.WaitAsync(TimeSpan.FromSeconds(10)))
        using (await third.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            budget.Available.Should().Be(Budget - 60_000);
        }

        budget.Available.Should().Be(Budget);
    }

    [Fact]
    public async Task TakeAsync_SmallImageWhileBudgetIsTaken_DoesNotWait()
    {
        var budget = NewBudget();
        using var large = await budget.TakeAsync(Budget, CancellationToken.None);

        var small = budget.TakeAsync(budget.SmallImagePixels, CancellationToken.None).AsTask();

        small.IsCompleted.Should().BeTrue();
        (await small).Dispose();
        budget.Available.Should().Be(0);
    }

    [Fact]
    public async Task TakeAsync_CancelledWhileWaiting_TakesNothingAndLetsTheNextOneIn()
    {
        var budget = NewBudget();
        var first = await budget.TakeAsync(Budget, CancellationToken.None);
        using var abort = new CancellationTokenSource();
        var cancelled = budget.TakeAsync(Budget, abort.Token).AsTask();
        var next = budget.TakeAsync(Budget / 2, CancellationToken.None).AsTask();

        await abort.CancelAsync();
        var waiting = () => cancelled;
        await waiting.Should().ThrowAsync<OperationCanceledException>();
        first.Dispose();

        using (await next.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            budget.Available.Should().Be(Budget / 2);
        }

        budget.Available.Should().Be(Budget);
    }

    private static DecodingBudget NewBudget() =>
        new(Options.Create(new PredictionLimits { MaxPixels = Budget, MaxDecodingPixels = Budget }));
}
