using System.Reflection;
using System.Runtime.InteropServices;

namespace MnistCnn.Core.Models;

/// <summary>
/// Writes the case study's network as an ONNX model (opset 13, IR version 7): input <c>input</c> float
/// <c>[N, 1, 28, 28]</c> with a symbolic batch dimension, output <c>logits</c> float <c>[N, 10]</c>, computed by
/// Conv, Sigmoid, Conv, Sigmoid, Flatten, Gemm (transB = 1), with the weights as initializers under their
/// PyTorch names.
/// </summary>
/// <remarks>
/// Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
/// ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto). IR version 7 with opset 13 is the
/// oldest pair that covers these operators in their current form, so the widest range of runtimes
/// (ONNX Runtime, ML.NET, Windows ML) loads the file.
/// </remarks>
internal static class OnnxFormat
{
    public const string InputName = "input";
    public const string OutputName = "logits";
    public const string BatchDimension = "N";
    public const long IrVersion = 7;
    public const long Opset = 13;

    // TensorProto.DataType.FLOAT; AttributeProto.AttributeType INT and INTS.
    private const int FloatType = 1;
    private const int IntAttribute = 2;
    private const int IntsAttribute = 7;

    /// <summary>The parameters the network needs, by PyTorch name, with their shapes.</summary>
    public static readonly IReadOnlyList<(string Name, long[] Shape)> Parameters =
    [
        ("conv1.weight", [3, 1, 3, 3]),
        ("conv1.bias", [3]),
        ("conv2.weight", [6, 3, 3, 3]),
        ("conv2.bias", [6]),
        ("linear1.weight", [10, 6 * 24 * 24]),
        ("linear1.bias", [10]),
    ];

    /// <summary>Encodes the model; <paramref name="weights"/> holds each of <see cref="Parameters"/>, row-major.</summary>
    /// <exception cref="ArgumentException">A parameter is missing or has the wrong number of values.</exception>
    public static byte[] Write(IReadOnlyDictionary<string, float[]> weights)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Writing ONNX tensors needs a little-endian machine.");
        }

        foreach (var (name, shape) in Parameters)
        {
            var expected = shape.Aggregate(1L, (a, b) => a * b);
            if (!weights.TryGetValue(name, out var values) || values.Length != expected)
            {
                throw new ArgumentException($"The weights need '{name}' with {expected} values.", nameof(weights));
            }
        }

        var model = new ProtobufWriter();
        model.WriteInt64(1, IrVersion);                                    // ir_version
        model.WriteString(2, "MnistCnn.Core");                              // producer_name
        model.WriteString(3, ProducerVersion);                             // producer_version
        model.WriteString(6,                                               // doc_string
            "The PyTorch MNIST case-study CNN. Input: 28x28 grey digits in MNIST's form (background 0, ink 1), pixel / 255, no normalisation.");
        model.WriteMessage(7, WriteGraph(weights));                        // graph
        model.WriteMessage(8, opset =>                                     // opset_import
        {
            opset.WriteString(1, string.Empty);                            // domain: the default ONNX operators
            opset.WriteInt64(2, Opset);                                    // version
        });
        return model.WrittenSpan.ToArray();
    }

    private static string ProducerVersion =>
        typeof(OnnxFormat).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    private static Action<ProtobufWriter> WriteGraph(IReadOnlyDictionary<string, float[]> weights) => graph =>
    {
        // node = 1: in execution order.
        graph.WriteMessage(1, Node("Conv", [InputName, "conv1.weight", "conv1.bias"], "conv1", Convolution));
        graph.WriteMessage(1, Node("Sigmoid", ["conv1"], "sigmoid1"));
        graph.WriteMessage(1, Node("Conv", ["sigmoid1", "conv2.weight", "conv2.bias"], "conv2", Convolution));
        graph.WriteMessage(1, Node("Sigmoid", ["conv2"], "sigmoid2"));
        graph.WriteMessage(1, Node("Flatten", ["sigmoid2"], "flatten", node => node.WriteMessage(5, Int("axis", 1))));
        graph.WriteMessage(1, Node("Gemm", ["flatten", "linear1.weight", "linear1.bias"], OutputName, node => node.WriteMessage(5, Int("transB", 1))));
        graph.WriteString(2, "ConvNet");                                   // name
        foreach (var (name, shape) in Parameters)
        {
            graph.WriteMessage(5, Tensor(name, shape, weights[name]));    // initializer
        }

        graph.WriteMessage(11, Value(InputName, 1, ConvNet.ImageSize, ConvNet.ImageSize));   // input
        graph.WriteMessage(12, Value(OutputName, ConvNet.ClassCount));                       // output
    };

    private static void Convolution(ProtobufWriter node)
    {
        // attribute = 5. The defaults, written out so that no reader has to know them.
        node.WriteMessage(5, Ints("kernel_shape", 3, 3));
        node.WriteMessage(5, Ints("strides", 1, 1));
        node.WriteMessage(5, Ints("pads", 0, 0, 0, 0));
        node.WriteMessage(5, Ints("dilations", 1, 1));
        node.WriteMessage(5, Int("group", 1));
    }

    private static Action<ProtobufWriter> Node(string operation, string[] inputs, string output, Action<ProtobufWriter>? attributes = null) => node =>
    {
        foreach (var input in inputs)
        {
            node.WriteString(1, input);                                    // input
        }

        node.WriteString(2, output);                                       // output
        node.WriteString(3, output);                                       // name
        node.WriteString(4, operation);                                    // op_type
        attributes?.Invoke(node);
    };

    private static Action<ProtobufWriter> Int(string name, long value) => attribute =>
    {
        attribute.WriteString(1, name);                                    // name
        attribute.WriteInt64(3, value);                                    // i
        attribute.WriteInt64(20, IntAttribute);                            // type
    };

    private static Action<ProtobufWriter> Ints(string name, params long[] values) => attribute =>
    {
        attribute.WriteString(1, name);                                    // name
        foreach (var value in values)
        {
            attribute.WriteInt64(8, value);                                // ints
        }

        attribute.WriteInt64(20, IntsAttribute);                           // type
    };

    private static Action<ProtobufWriter> Tensor(string name, long[] shape, float[] values) => tensor =>
    {
        foreach (var dimension in shape)
        {
            tensor.WriteInt64(1, dimension);                               // dims
        }

        tensor.WriteInt64(2, FloatType);                                   // data_type
        tensor.WriteString(8, name);                                       // name
        tensor.WriteBytes(9, MemoryMarshal.AsBytes(values.AsSpan()));      // raw_data: little-endian IEEE 754
    };

    /// <summary>A float tensor value whose first dimension is the symbolic batch size.</summary>
    private static Action<ProtobufWriter> Value(string name, params long[] dimensions) => value =>
    {
        value.WriteString(1, name);                                        // name
        value.WriteMessage(2, type => type.WriteMessage(1, tensorType =>   // type.tensor_type
        {
            tensorType.WriteInt64(1, FloatType);                           // elem_type
            tensorType.WriteMessage(2, shape =>                            // shape
            {
                shape.WriteMessage(1, dimension => dimension.WriteString(2, BatchDimension));   // dim { dim_param }
                foreach (var size in dimensions)
                {
                    shape.WriteMessage(1, dimension => dimension.WriteInt64(1, size));          // dim { dim_value }
                }
            });
        }));
    };
}
