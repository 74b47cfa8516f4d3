using MnistCnn.Core.Models;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Models;

[Collection(TorchGlobalState.Name)]
public sealed class ModelWeightsTests
{
    [Fact]
    public void SaveThenLoad_IntoAnotherModel_RestoresEveryWeight()
    {
        using var folder = new TempDirectory();
        using var source = new ConvNet(seed: 1);
        using var target = new ConvNet(seed: 2);
        var path = folder.File("weights.safetensors");

        ModelWeights.Save(source, path);
        ModelWeights.Load(target, path);

        foreach (var (name, tensor) in source.state_dict())
        {
            target.state_dict()[name].allclose(tensor, rtol: 0, atol: 0).Should().BeTrue(name);
        }

        Directory.GetFiles(folder.Path).Should().Equal(path);
    }

    [Fact]
    public void Load_WeightsOfAnotherArchitecture_ThrowsNamingTheFile()
    {
        using var folder = new TempDirectory();
        using var other = nn.Sequential(("conv1", nn.Conv2d(1, 4, 3)));
        using var model = new ConvNet();
        var path = folder.File("other.safetensors");
        ModelWeights.Save(other, path);

        var act = () => ModelWeights.Load(model, path);

        act.Should().Throw<ModelFileException>().WithMessage($"{path}:*another architecture*").Which.FilePath.Should().Be(path);
    }

    [Fact]
    public void Load_TruncatedFile_ThrowsModelFileException()
    {
        using var folder = new TempDirectory();
        using var model = new ConvNet();
        var path = folder.File("weights.safetensors");
        ModelWeights.Save(model, path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var act = () => ModelWeights.Load(model, path);

        act.Should().Throw<ModelFileException>().WithMessage($"{path}:*");
    }

    [Fact]
    public void Load_MissingFile_ThrowsFileNotFound()
    {
        using var folder = new TempDirectory();
        using var model = new ConvNet();

        var act = () => ModelWeights.Load(model, folder.File("missing.safetensors"));

        act.Should().Throw<FileNotFoundException>();
    }
}
