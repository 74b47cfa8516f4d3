using MnistCnn.Core.Data;
using static TorchSharp.torch;

namespace MnistCnn.Core.Models;

/// <summary>The one place that checks a classifier against a dataset: it must take the images and return one logit per class.</summary>
internal static class ClassifierCheck
{
    /// <summary>
    /// Runs the model on the dataset's first image, so that a disposed dataset, images the model cannot take,
    /// or logits other than <c>[N, ClassCount]</c> fail before any work. In evaluation mode and without
    /// gradients, so layers that keep statistics are untouched; the model's mode is restored.
    /// </summary>
    /// <exception cref="ArgumentException">The model cannot take the images, or its output is not <c>[N, ClassCount]</c>.</exception>
    /// <exception cref="ObjectDisposedException">The dataset is disposed.</exception>
    public static void EnsureFits(nn.Module<Tensor, Tensor> model, IDigitDataset dataset)
    {
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            using var batch = dataset.GetBatch(0, 1);
            EnsureLogits(model.call(batch.Images.to(DeviceOf(model))), dataset.ClassCount, nameof(model));
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>The device of a model's parameters (the CPU for a model without parameters).</summary>
    public static Device DeviceOf(nn.Module model) => model.parameters().FirstOrDefault()?.device ?? CPU;

    /// <summary>The rule itself: a classifier returns logits <c>[N, ClassCount]</c>.</summary>
    /// <exception cref="ArgumentException">The logits have another shape; it names <paramref name="modelParameter"/>, the caller's parameter.</exception>
    public static void EnsureLogits(Tensor logits, int classCount, string modelParameter)
    {
        if (logits.dim() != 2 || logits.shape[1] != classCount)
        {
            throw new ArgumentException(
                $"The model returns logits of shape [{string.Join(", ", logits.shape)}] but the dataset has {classCount} classes.", modelParameter);
        }
    }
}
