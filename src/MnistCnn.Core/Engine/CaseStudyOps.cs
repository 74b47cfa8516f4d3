using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MnistCnn.Core.Engine;

/// <summary>
/// What the case study's narrower kernels (<see cref="CaseStudyLanes{TOps, TVector}"/>) need beyond
/// <see cref="ISimdOps{TVector}"/>: lane-wise multiply, and the sigmoid with its gradient, each computed
/// lane for lane with the same operations, in the same order, as the 256-bit kernels.
/// </summary>
/// <typeparam name="TVector">The vector type (<see cref="float"/> itself for scalar code).</typeparam>
internal interface ICaseStudyOps<TVector> : ISimdOps<TVector>
    where TVector : unmanaged
{
    /// <summary><c>left * right</c> per lane.</summary>
    static abstract TVector Multiply(TVector left, TVector right);

    /// <summary><c>1 / (1 + e^-x)</c> per lane, with the float32 exponential of <see cref="CaseStudyForward.Exp"/>.</summary>
    static abstract TVector Sigmoid(TVector x);

    /// <summary>PyTorch's sigmoid backward, <c>(gradient * (1 - h)) * h</c> per lane, for the sigmoid's output h.</summary>
    static abstract TVector SigmoidBackward(TVector gradient, TVector h);
}

/// <summary>The case study's 128-bit operations (SSE, Arm64 AdvSIMD, WebAssembly SIMD).</summary>
internal readonly struct CaseStudy128 : ICaseStudyOps<Vector128<float>>
{
    public static int Count => Simd128.Count;

    public static Vector128<float> Zero => Vector128<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(ref float source) => Simd128.Load(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<float> value, ref float destination) => Simd128.Store(value, ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Broadcast(float value) => Simd128.Broadcast(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> left, Vector128<float> right, Vector128<float> addend) =>
        Simd128.MultiplyAdd(left, right, addend);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector128<float> value) => Simd128.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Max(Vector128<float> left, Vector128<float> right) => Simd128.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> left, Vector128<float> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Multiply(Vector128<float> left, Vector128<float> right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sigmoid(Vector128<float> x) => Vector128<float>.One / (Vector128<float>.One + Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> SigmoidBackward(Vector128<float> gradient, Vector128<float> h) => gradient * (Vector128<float>.One - h) * h;

    /// <summary><see cref="CaseStudyForward.Exp"/> on 128 bits: the same steps with the same constants.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Exp(Vector128<float> x)
    {
        x = Vector128.Min(Vector128.Max(x, Vector128.Create(-87f)), Vector128.Create(88.5f));
        var n = Vector128.Floor(Vector128.MultiplyAddEstimate(x, Vector128.Create(1.44269504088896341f), Vector128.Create(0.5f)));
        var r = Vector128.MultiplyAddEstimate(n, Vector128.Create(-0.693359375f), x);
        r = Vector128.MultiplyAddEstimate(n, Vector128.Create(2.12194440e-4f), r);
        var p = Vector128.Create(1.9875691500e-4f);
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(1.3981999507e-3f));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(8.3334519073e-3f));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(4.1665795894e-2f));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(1.6666665459e-1f));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(5.0000001201e-1f));
        p = Vector128.MultiplyAddEstimate(p, r * r, r) + Vector128<float>.One;
        var scale = Vector128.ShiftLeft(Vector128.ConvertToInt32(n) + Vector128.Create(127), 23).AsSingle();
        return p * scale;
    }
}

/// <summary>The case study's operations in scalar code: one float per "vector".</summary>
internal readonly struct CaseStudyScalar : ICaseStudyOps<float>
{
    public static int Count => SimdScalar.Count;

    public static float Zero => SimdScalar.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(ref float source) => SimdScalar.Load(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float value, ref float destination) => SimdScalar.Store(value, ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Broadcast(float value) => SimdScalar.Broadcast(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAdd(float left, float right, float addend) => SimdScalar.MultiplyAdd(left, right, addend);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(float value) => SimdScalar.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Add(float left, float right) => SimdScalar.Add(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(float left, float right) => SimdScalar.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Multiply(float left, float right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x) => 1f / (1f + Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SigmoidBackward(float gradient, float h) => gradient * (1f - h) * h;

    /// <summary><see cref="CaseStudyForward.Exp"/> on one float: the same steps with the same constants.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Exp(float x)
    {
        x = MathF.Min(MathF.Max(x, -87f), 88.5f);
        var n = MathF.Floor(float.MultiplyAddEstimate(x, 1.44269504088896341f, 0.5f));
        var r = float.MultiplyAddEstimate(n, -0.693359375f, x);
        r = float.MultiplyAddEstimate(n, 2.12194440e-4f, r);
        var p = 1.9875691500e-4f;
        p = float.MultiplyAddEstimate(p, r, 1.3981999507e-3f);
        p = float.MultiplyAddEstimate(p, r, 8.3334519073e-3f);
        p = float.MultiplyAddEstimate(p, r, 4.1665795894e-2f);
        p = float.MultiplyAddEstimate(p, r, 1.6666665459e-1f);
        p = float.MultiplyAddEstimate(p, r, 5.0000001201e-1f);
        p = float.MultiplyAddEstimate(p, r * r, r) + 1f;
        var scale = BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
        return p * scale;
    }
}
