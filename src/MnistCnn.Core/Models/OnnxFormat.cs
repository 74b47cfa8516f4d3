using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using MnistCnn.Core.Engine;

namespace MnistCnn.Core.Models;

/// <summary>
/// Writes an engine network (<see cref="NetworkDescription"/>: the case study's <c>ConvNet</c>, <c>LeNet</c>) as an
/// ONNX model (opset 13, IR version 7): input <c>input</c> float <c>[N, 1, 28, 28]</c> with a symbolic batch
/// dimension, output <c>logits</c> float <c>[N, classes]</c>, one node per layer (Conv, Relu, Sigmoid, MaxPool,
/// Flatten, Gemm with transB = 1), with the weights as initializers under their PyTorch names.
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

    /// <summary>Encodes <paramref name="network"/>; <paramref name="weights"/> holds each of its parameters, row-major.</summary>
    /// <exception cref="ArgumentException">A parameter is missing or has the wrong number of values.</exception>
    public static byte[] Write(NetworkDescription network, IReadOnlyDictionary<string, float[]> weights)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Writing ONNX tensors needs a little-endian machine.");
        }

        foreach (var parameter in network.Parameters)
        {
            if (!weights.TryGetValue(parameter.Name, out var values) || values.Length != parameter.Length)
            {
                throw new ArgumentException($"The weights need '{parameter.Name}' with {parameter.Length} values.", nameof(weights));
            }
        }

        var model = new ProtobufWriter();
        model.WriteInt64(1, IrVersion);                                    // ir_version
        model.WriteString(2, "MnistCnn.Core");                              // producer_name
        model.WriteString(3, ProducerVersion);                             // producer_version
        model.WriteString(6,                                               // doc_string
            $"{network.Name}: {network.LayerText}. Input: 28x28 grey images in MNIST's form (background 0, ink 1), pixel / 255, no normalisation.");
        model.WriteMessage(7, WriteGraph(network, weights));               // graph
        model.WriteMessage(8, opset =>                                     // opset_import
        {
            opset.WriteString(1, string.Empty);                            // domain: the default ONNX operators
            opset.WriteInt64(2, Opset);                                    // version
        });
        return model.WrittenSpan.ToArray();
    }

    private static string ProducerVersion =>
        typeof(OnnxFormat).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    private static Action<ProtobufWriter> WriteGraph(NetworkDescription network, IReadOnlyDictionary<string, float[]> weights) => graph =>
    {
        // node = 1: in execution order. A layer with parameters names its output after itself (conv1, fc1), the
        // others after their kind and how many of that kind came before (sigmoid1, pool2); the last is the logits.
        var previous = InputName;
        var counts = new Dictionary<LayerKind, int>();
        for (var i = 0; i < network.Layers.Count; i++)
        {
            var layer = network.Layers[i];
            counts[layer.Kind] = counts.GetValueOrDefault(layer.Kind) + 1;
            var output = i == network.Layers.Count - 1 ? OutputName
                : layer.Name ?? string.Create(CultureInfo.InvariantCulture, $"{OperatorPrefix(layer.Kind)}{counts[layer.Kind]}");
            graph.WriteMessage(1, layer.Kind switch
            {
                LayerKind.Conv2d => Node("Conv", [previous, layer.Name + ".weight", layer.Name + ".bias"], output, node => Convolution(node, layer.Kernel)),
                LayerKind.ReLU => Node("Relu", [previous], output),
                LayerKind.Sigmoid => Node("Sigmoid", [previous], output),
                LayerKind.MaxPool2d => Node("MaxPool", [previous], output, Pool),
                LayerKind.Flatten => Node("Flatten", [previous], output, node => node.WriteMessage(5, Int("axis", 1))),
                LayerKind.Linear => Node("Gemm", [previous, layer.Name + ".weight", layer.Name + ".bias"], output, node => node.WriteMessage(5, Int("transB",
                    1))),
                _ => throw new UnreachableException($"No ONNX operator for {layer}."),
            });
            previous = output;
        }

        graph.WriteString(2, network.Name);                                // name
        foreach (var parameter in network.Parameters)
        {
            graph.WriteMessage(5, Tensor(parameter.Name, parameter.Shape, weights[parameter.Name]));   // initializer
        }

        graph.WriteMessage(11, Value(InputName, 1, NetworkDescription.ImageSize, NetworkDescription.ImageSize));   // input
        graph.WriteMessage(12, Value(OutputName, network.Classes));                                           // output
    };

    private static string OperatorPrefix(LayerKind kind) => kind switch
    {
        LayerKind.MaxPool2d => "pool",
        _ => kind.ToString().ToLowerInvariant(),
    };

    private static void Convolution(ProtobufWriter node, int kernel)
    {
        // attribute = 5. The defaults, written out so that no reader has to know them.
        node.WriteMessage(5, Ints("kernel_shape", kernel, kernel));
        node.WriteMessage(5, Ints("strides", 1, 1));
        node.WriteMessage(5, Ints("pads", 0, 0, 0, 0));
        node.WriteMessage(5, Ints("dilations", 1, 1));
        node.WriteMessage(5, Int("group", 1));
    }

    private static void Pool(ProtobufWriter node)
    {
        // PyTorch's max_pool2d(x, 2): 2x2 windows, stride 2, no padding, floor rounding.
        node.WriteMessage(5, Ints("kernel_shape", 2, 2));
        node.WriteMessage(5, Ints("strides", 2, 2));
        node.WriteMessage(5, Ints("pads", 0, 0, 0, 0));
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
