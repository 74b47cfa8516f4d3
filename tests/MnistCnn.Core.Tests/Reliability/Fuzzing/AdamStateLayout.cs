using System.Text;

namespace MnistCnn.Core.Tests.Reliability.Fuzzing;

/// <summary>
/// Where each field of an Adam optimizer state (TorchSharp's <c>save_state_dict</c> format) sits in a
/// checkpoint's optimizer section, so mutations can aim at it: the optimizer's type name (a .NET
/// length-prefixed string), the group and state counts (LEB128), per group the options (initial and current
/// learning rate, beta1, beta2, eps, weight decay as doubles; amsgrad and maximize as bytes), per parameter
/// the step (int64), exp_avg and exp_avg_sq (each: LEB128 dtype, LEB128 rank, LEB128 dimensions, raw data)
/// and a byte saying whether max_exp_avg_sq follows.
/// </summary>
internal sealed class AdamStateLayout
{
    private AdamStateLayout()
    {
    }

    public int GroupCountAt { get; private set; }

    public int StateCountAt { get; private set; }

    public List<int> OptionsAt { get; } = [];

    public List<ParameterState> States { get; } = [];

    /// <summary>Reads the layout of a valid section (as the trainer writes it).</summary>
    public static AdamStateLayout Parse(byte[] section)
    {
        var layout = new AdamStateLayout();
        var at = 0;
        var nameLength = ReadLeb(section, ref at);
        at += (int)nameLength;
        layout.GroupCountAt = at;
        var groups = ReadLeb(section, ref at);
        layout.StateCountAt = at;
        var states = ReadLeb(section, ref at);
        for (var g = 0; g < groups; g++)
        {
            layout.OptionsAt.Add(at);
            at += (6 * 8) + 2;
        }

        for (var s = 0; s < states; s++)
        {
            var stepAt = at;
            at += 8;
            var expAvg = ReadTensor(section, ref at);
            var expAvgSq = ReadTensor(section, ref at);
            layout.States.Add(new ParameterState(stepAt, expAvg, expAvgSq, at));
            at += 1;
        }

        if (at != section.Length)
        {
            throw new InvalidDataException($"The seed optimizer state has {section.Length - at} unexpected bytes.");
        }

        return layout;
    }

    /// <summary>The LEB128 encoding TorchSharp writes for a non-negative number.</summary>
    public static byte[] Leb(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
        return [.. bytes];
    }

    /// <summary>A .NET BinaryWriter string: 7-bit length prefix, then UTF-8.</summary>
    public static byte[] NetString(string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        return [.. Leb((ulong)utf8.Length), .. utf8];
    }

    private static long ReadLeb(byte[] bytes, ref int at)
    {
        long result = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[at++];
            result |= (long)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }
    }

    private static TensorField ReadTensor(byte[] bytes, ref int at)
    {
        var dtypeAt = at;
        _ = ReadLeb(bytes, ref at);
        var rankAt = at;
        var rank = ReadLeb(bytes, ref at);
        var dimensions = new List<(int At, long Value)>();
        long count = 1;
        for (var d = 0; d < rank; d++)
        {
            var dimAt = at;
            var value = ReadLeb(bytes, ref at);
            dimensions.Add((dimAt, value));
            count *= value;
        }

        var dataAt = at;
        at += (int)(count * 4);
        return new TensorField(dtypeAt, rankAt, dimensions, dataAt, (int)(count * 4));
    }

    /// <summary>One saved tensor: where its dtype, rank, dimensions and float32 data are.</summary>
    internal sealed record TensorField(int DTypeAt, int RankAt, List<(int At, long Value)> Dimensions, int DataAt, int DataLength);

    /// <summary>One parameter's state: its step, its two moments, and the max_exp_avg_sq flag.</summary>
    internal sealed record ParameterState(int StepAt, TensorField ExpAvg, TensorField ExpAvgSq, int HasMaxAt);
}
