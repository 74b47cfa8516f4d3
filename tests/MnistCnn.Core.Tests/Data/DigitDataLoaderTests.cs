using MnistCnn.Core.Data;

namespace MnistCnn.Core.Tests.Data;

public sealed class DigitDataLoaderTests
{
    [Theory]
    [InlineData(10, 4, false, 3, new[] { 4, 4, 2 })]
    [InlineData(10, 4, true, 2, new[] { 4, 4 })]
    [InlineData(8, 4, false, 2, new[] { 4, 4 })]
    public void GetBatches_CountsAndSizes_FollowBatchSizeAndDropLast(int count, int batchSize, bool dropLast, int batches, int[] sizes)
    {
        using var dataset = SyntheticDigits.Dataset(count, 2, 2);
        var loader = new DigitDataLoader(dataset, new DigitDataLoaderOptions { BatchSize = batchSize, DropLast = dropLast });

        var seen = Collect(loader.GetBatches(0), b => b.Count);

        loader.BatchCount.Should().Be(batches);
        seen.Should().Equal(sizes);
    }

    [Fact]
    public void GetBatches_WithoutShuffle_VisitsDatasetOrderEveryEpoch()
    {
        using var dataset = SyntheticDigits.Dataset(10, 2, 2, new DigitDatasetOptions { ClassCount = 10 });
        var loader = new DigitDataLoader(dataset, new DigitDataLoaderOptions { BatchSize = 3 });

        var epoch0 = Collect(loader.GetBatches(0), b => b.Labels.data<long>().ToArray()).SelectMany(x => x);
        var epoch1 = Collect(loader.GetBatches(1), b => b.Labels.data<long>().ToArray()).SelectMany(x => x);

        epoch0.Should().Equal(Enumerable.Range(0, 10).Select(i => (long)i));
        epoch1.Should().Equal(epoch0);
    }

    [Fact]
    public void GetBatches_WithShuffle_IsAPermutationThatDependsOnSeedAndEpoch()
    {
        using var dataset = SyntheticDigits.Dataset(30, 2, 2);
        var options = new DigitDataLoaderOptions { BatchSize = 7, Shuffle = true };
        var loader = new DigitDataLoader(dataset, options);
        var again = new DigitDataLoader(dataset, options);

        var epoch0 = loader.GetOrder(0, seed: 42);
        var epoch1 = loader.GetOrder(1, seed: 42);

        epoch0.Should().BeEquivalentTo(Enumerable.Range(0, 30).Select(i => (long)i));
        epoch0.Should().NotEqual(Enumerable.Range(0, 30).Select(i => (long)i));
        epoch1.Should().NotEqual(epoch0);
        again.GetOrder(0, seed: 42).Should().Equal(epoch0);
        again.GetOrder(1, seed: 42).Should().Equal(epoch1);
        loader.GetOrder(0, seed: 43).Should().NotEqual(epoch0);
        loader.GetOrder(0).Should().Equal(loader.GetOrder(0, seed: 0), "the default seed is 0");
    }

    [Fact]
    public void GetBatches_WithShuffle_YieldsImagesInTheEpochsOrder()
    {
        using var dataset = SyntheticDigits.Dataset(20, 2, 2);
        var loader = new DigitDataLoader(dataset, new DigitDataLoaderOptions { BatchSize = 6, Shuffle = true });

        var visited = Collect(loader.GetBatches(3, seed: 7), b => SyntheticDigits.IndicesOf(b, 20)).SelectMany(x => x).ToArray();
        var labels = Collect(loader.GetBatches(3, seed: 7), b => b.Labels.data<long>().ToArray()).SelectMany(x => x).ToArray();

        visited.Should().Equal(loader.GetOrder(3, seed: 7));
        labels.Should().Equal(loader.GetOrder(3, seed: 7).Select(i => i % 10));
    }

    [Fact]
    public void Enumerating_TwiceWithShuffle_AdvancesTheEpoch()
    {
        using var dataset = SyntheticDigits.Dataset(12, 2, 2);
        var loader = new DigitDataLoader(dataset, new DigitDataLoaderOptions { BatchSize = 12, Shuffle = true });

        var first = Collect(loader, b => b.Labels.data<long>().ToArray()).Single();
        var second = Collect(loader, b => b.Labels.data<long>().ToArray()).Single();

        loader.Epoch.Should().Be(2);
        first.Should().Equal(loader.GetOrder(0).Select(i => i % 10));
        second.Should().Equal(loader.GetOrder(1).Select(i => i % 10));
    }

    [Fact]
    public void Constructor_BatchLargerThanDatasetWithDropLast_Throws()
    {
        using var dataset = SyntheticDigits.Dataset(3, 2, 2);

        var act = () => new DigitDataLoader(dataset, new DigitDataLoaderOptions { BatchSize = 4, DropLast = true });

        act.Should().Throw<ArgumentException>().WithMessage("*3 images make no batch of 4*");
    }

    [Fact]
    public void Options_BatchSizeZero_Throws()
    {
        var act = () => new DigitDataLoaderOptions { BatchSize = 0 };

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("BatchSize");
    }

    [Fact]
    public void Constructor_NullDataset_Throws()
    {
        var act = () => new DigitDataLoader(null!);

        act.Should().Throw<ArgumentNullException>().WithParameterName("dataset");
    }

    private static List<T> Collect<T>(IEnumerable<DigitBatch> batches, Func<DigitBatch, T> select)
    {
        var results = new List<T>();
        foreach (var batch in batches)
        {
            using (batch)
            {
                results.Add(select(batch));
            }
        }

        return results;
    }
}
