namespace MnistCnn.Samples.Web.Tests;

/// <summary>The tests sharing one running server (one after another: the machine may have two cores).</summary>
[CollectionDefinition(Name)]
public sealed class SharedWebApp : ICollectionFixture<WebAppServer>
{
    public const string Name = "Web app";
}
