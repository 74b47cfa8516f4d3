using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MnistCnn.Core.Engine;

/// <summary>
/// What the case study's kernels need beyond <see cref="ISimdOps{TVector}"/>: lane-wise multiply, the steps of
/// <see cref="CaseStudyLanes.Exp{TOps, TVector}"/>, and the sigmoid with its gradient, each computed lane for lane with
/// the same operations, in the same order, at every width.
/// </summary>
/// <typeparam name="TVector">The vector type (<see cref="float"/> itself for scalar code).</typeparam>
internal interface ICaseStudyOps<TVector> : ISimdOps<TVector>
    where TVector : unmanaged
{
    /// <summary><c>left * right</c> per lane.</summary>
    static abstract TVector Multiply(TVector left, TVector right);

    /// <summary>
    /// Each lane limited to [<paramref name="low"/>, <paramref name="high"/>]; a NaN lane stays NaN. On vectors, the
    /// hardware's own max and min with the bound first: the JIT emits them as they are, where <c>Max</c> and <c>Min</c> of a
    /// bound it cannot see as a constant would cost a fix-up for NaN and -0 that a clamp does not need.
    /// </summary>
    static abstract TVector Clamp(TVector x, float low, float high);

    /// <summary>Each lane rounded down to an integer.</summary>
    static abstract TVector Floor(TVector x);

    /// <summary>
    /// <c>2^n</c> per lane for integral n in [-126, 127], written into the exponent bits. <c>n + (2^23 + 127)</c> is exact
    /// and holds <c>n + 127</c> in its low mantissa bits, which the shift moves into the exponent: one add in place of a
    /// conversion to integers, which .NET makes saturate at a cost of five instructions a vector on x86 (read from the JIT's
    /// output for conv1's forward pass).
    /// </summary>
    static abstract TVector PowerOfTwo(TVector n);

    /// <summary><c>1 / (1 + e^-x)</c> per lane, with the float32 exponential of <see cref="CaseStudyLanes.Exp{TOps, TVector}"/>.</summary>
    static abstract TVector Sigmoid(TVector x);

    /// <summary>PyTorch's sigmoid backward, <c>(gradient * (1 - h)) * h</c> per lane, for the sigmoid's output h.</summary>
    static abstract TVector SigmoidBackward(TVector gradient, TVector h);
}

/// <summary>The case study's 256-bit operations (AVX2): its widest kernels, in <see cref="CaseStudyForward"/> and <see cref="CaseStudyBackward"/>.</summary>
internal readonly struct CaseStudy256 : ICaseStudyOps<Vector256<float>>
{
    public static int Count => Simd256.Count;

    public static Vector256<float> Zero => Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(ref float source) => Simd256.Load(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> value, ref float destination) => Simd256.Store(value, ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Simd256.Broadcast(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> left, Vector256<float> right, Vector256<float> addend) =>
        Simd256.MultiplyAdd(left, right, addend);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> value) => Simd256.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> left, Vector256<float> right) => Simd256.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> left, Vector256<float> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> left, Vector256<float> right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Clamp(Vector256<float> x, float low, float high) =>
        Vector256.MinNative(Vector256.Create(high), Vector256.MaxNative(Vector256.Create(low), x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Floor(Vector256<float> x) => Vector256.Floor(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> PowerOfTwo(Vector256<float> n) =>
        Vector256.ShiftLeft((n + Vector256.Create(CaseStudyLanes.ExponentBias)).AsInt32(), 23).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x) =>
        Vector256<float>.One / (Vector256<float>.One + CaseStudyLanes.Exp<CaseStudy256, Vector256<float>>(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SigmoidBackward(Vector256<float> gradient, Vector256<float> h) => gradient * (Vector256<float>.One - h) * h;
}

/// <summary>
/// The case study's 512-bit operations (AVX-512): only <see cref="CaseStudyForward.SigmoidInPlace"/> takes them; the
/// kernels' sums stay 256 bits wide.
/// </summary>
internal readonly struct CaseStudy512 : ICaseStudyOps<Vector512<float>>
{
    public static int Count => Simd512.Count;

    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ref float source) => Simd512.Load(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, ref float destination) => Simd512.Store(value, ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Simd512.Broadcast(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> left, Vector512<float> right, Vector512<float> addend) =>
        Simd512.MultiplyAdd(left, right, addend);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> value) => Simd512.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> left, Vector512<float> right) => Simd512.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> left, Vector512<float> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> left, Vector512<float> right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Clamp(Vector512<float> x, float low, float high) =>
        Vector512.MinNative(Vector512.Create(high), Vector512.MaxNative(Vector512.Create(low), x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Floor(Vector512<float> x) => Vector512.Floor(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> PowerOfTwo(Vector512<float> n) =>
        Vector512.ShiftLeft((n + Vector512.Create(CaseStudyLanes.ExponentBias)).AsInt32(), 23).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x) =>
        Vector512<float>.One / (Vector512<float>.One + CaseStudyLanes.Exp<CaseStudy512, Vector512<float>>(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SigmoidBackward(Vector512<float> gradient, Vector512<float> h) => gradient * (Vector512<float>.One - h) * h;
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
    public static Vector128<float> Clamp(Vector128<float> x, float low, float high) =>
        Vector128.MinNative(Vector128.Create(high), Vector128.MaxNative(Vector128.Create(low), x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Floor(Vector128<float> x) => Vector128.Floor(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> PowerOfTwo(Vector128<float> n) =>
        Vector128.ShiftLeft((n + Vector128.Create(CaseStudyLanes.ExponentBias)).AsInt32(), 23).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sigmoid(Vector128<float> x) =>
        Vector128<float>.One / (Vector128<float>.One + CaseStudyLanes.Exp<CaseStudy128, Vector128<float>>(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> SigmoidBackward(Vector128<float> gradient, Vector128<float> h) => gradient * (Vector128<float>.One - h) * h;
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
    public static float Clamp(float x, float low, float high) => MathF.Min(MathF.Max(x, low), high);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Floor(float x) => MathF.Floor(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float PowerOfTwo(float n) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(n + CaseStudyLanes.ExponentBias) << 23);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x) => 1f / (1f + CaseStudyLanes.Exp<CaseStudyScalar, float>(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SigmoidBackward(float gradient, float h) => gradient * (1f - h) * h;
}
