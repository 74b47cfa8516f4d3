using System.Runtime.CompilerServices;

namespace MnistCnn.Core.Engine;

/// <summary>Softmax cross-entropy and the predicted class of one image's logits, as torch computes them in float32.</summary>
internal static class Loss
{
    /// <summary>
    /// <c>log(sum(exp(z)))</c> of the logits in float32, as <c>max + log(sum(exp(z - max)))</c> summed in index order:
    /// the cross-entropy of label <c>y</c> is this minus <c>z[y]</c>. NaN when a logit is NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float LogSumExp(ReadOnlySpan<float> logits)
    {
        var max = logits[0];
        for (var j = 1; j < logits.Length; j++)
        {
            max = MathF.Max(max, logits[j]);
        }

        var sum = 0f;
        foreach (var z in logits)
        {
            sum += MathF.Exp(z - max);
        }

        return max + MathF.Log(sum);
    }

    /// <summary>
    /// Softmax cross-entropy of one image's logits, as torch's <c>cross_entropy(label_smoothing: e)</c> computes it: the
    /// target puts <c>1 - e + e / K</c> on the label and <c>e / K</c> on each of the other <c>K - 1</c> classes. Returns
    /// <c>(1 - e) * (logsumexp(z) - z[label]) + e * (logsumexp(z) - mean(z))</c> and writes
    /// <c>(softmax(z) - target) * scale</c> (with <c>scale = 1 / batch size</c>, the gradient of the batch mean). With
    /// <paramref name="smoothing"/> 0 (plain cross-entropy) that is <c>logsumexp(z) - z[label]</c> and
    /// <c>(softmax(z) - onehot(label)) * scale</c>, computed as such.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, int label, float scale, Span<float> logitGradient, float smoothing = 0f)
    {
        var logSumExp = LogSumExp(logits);
        if (smoothing == 0f)
        {
            for (var j = 0; j < logits.Length; j++)
            {
                logitGradient[j] = (MathF.Exp(logits[j] - logSumExp) * scale) - (j == label ? scale : 0f);
            }

            return logSumExp - logits[label];
        }

        var other = smoothing / logits.Length;
        var sum = 0f;
        for (var j = 0; j < logits.Length; j++)
        {
            var target = j == label ? 1f - smoothing + other : other;
            logitGradient[j] = (MathF.Exp(logits[j] - logSumExp) - target) * scale;
            sum += logits[j];
        }

        return ((1f - smoothing) * (logSumExp - logits[label])) + (smoothing * (logSumExp - (sum / logits.Length)));
    }

    /// <summary>torch's argmax: the first of equal maxima, or the first NaN.</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        var max = logits[0];
        if (float.IsNaN(max))
        {
            return 0;
        }

        for (var j = 1; j < logits.Length; j++)
        {
            if (logits[j] > max || float.IsNaN(logits[j]))
            {
                (best, max) = (j, logits[j]);
                if (float.IsNaN(max))
                {
                    break;
                }
            }
        }

        return best;
    }

    /// <summary>
    /// The rank of the label's logit among an image's logits: how many logits are greater (0 = the highest; ties
    /// count in the label's favour). A NaN label logit ranks last.
    /// </summary>
    public static int LabelRank(ReadOnlySpan<float> logits, int label)
    {
        var target = logits[label];
        if (float.IsNaN(target))
        {
            return logits.Length - 1;
        }

        var rank = 0;
        foreach (var z in logits)
        {
            rank += z > target ? 1 : 0;
        }

        return rank;
    }
}
