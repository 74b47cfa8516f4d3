using MnistCnn.Core.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Models;

/// <summary>
/// The torch side of an engine network: the modules a <see cref="NetworkDescription"/> asks for, with PyTorch's
/// initial parameters, and its forward pass in torch. <see cref="ConvNet"/> and <see cref="LeNet"/> are built here.
/// </summary>
internal sealed class DescribedLayers : IDisposable
{
    private readonly nn.Module?[] _modules;

    /// <summary>
    /// Builds the layers' modules on the meta device (shapes only, nothing drawn) and gives them the parameters
    /// PyTorch draws, in module order, from <paramref name="generator"/> (or torch's global generator when null).
    /// </summary>
    public DescribedLayers(NetworkDescription description, Generator? generator)
    {
        Description = description;
        _modules = new nn.Module?[description.Layers.Count];
        for (var i = 0; i < _modules.Length; i++)
        {
            var layer = description.Layers[i];
            if (layer.Kind == LayerKind.Conv2d)
            {
                var conv = nn.Conv2d(layer.Inputs, layer.Outputs, kernel_size: layer.Kernel, stride: 1, device: META);
                PyTorchLayers.Reset(conv, generator);
                _modules[i] = conv;
            }
            else if (layer.Kind == LayerKind.Linear)
            {
                var linear = nn.Linear(layer.Inputs, layer.Outputs, device: META);
                PyTorchLayers.Reset(linear, generator);
                _modules[i] = linear;
            }
        }
    }

    public NetworkDescription Description { get; }

    /// <summary>Registers the modules under their names (so the state dictionary holds <c>conv1.weight</c>, ...).</summary>
    public void RegisterWith(nn.Module owner)
    {
        for (var i = 0; i < _modules.Length; i++)
        {
            if (_modules[i] is { } module)
            {
                owner.register_module(Description.Layers[i].Name!, module);
            }
        }
    }

    /// <summary>The parameters in the description's order.</summary>
    public Parameter[] Parameters() => _modules.OfType<nn.Module>()
        .SelectMany(m => m switch
        {
            Conv2d conv => new[] { conv.weight!, conv.bias! },
            Linear linear => [linear.weight!, linear.bias!],
            _ => [],
        }).ToArray();

    /// <summary>The description's forward pass in torch: convolutions as functions in channels-last layout, linear layers as modules.</summary>
    public Tensor Forward(Tensor input)
    {
        var x = input;
        for (var i = 0; i < _modules.Length; i++)
        {
            x = Description.Layers[i].Kind switch
            {
                LayerKind.Conv2d => PyTorchLayers.Convolve(x, (Conv2d)_modules[i]!),
                LayerKind.ReLU => x.relu_(),
                LayerKind.Sigmoid => x.sigmoid_(),
                LayerKind.MaxPool2d => nn.functional.max_pool2d(x, 2),
                LayerKind.Flatten => x.flatten(1),
                _ => ((Linear)_modules[i]!).call(x),
            };
        }

        return x;
    }

    /// <summary>
    /// Whether a forward hook is registered on <paramref name="owner"/> or on a linear layer (the submodules called
    /// as modules; the convolutions are called as functions, so hooks on them never ran), in which case training
    /// must go through the module's forward so the hooks run.
    /// </summary>
    public bool HasHooks(nn.Module owner) => HookCount(owner) > 0 || _modules.OfType<Linear>().Any(m => HookCount(m) > 0);

    public void Dispose()
    {
        foreach (var module in _modules)
        {
            module?.Dispose();
        }
    }

    // TorchSharp keeps a module's forward hooks in private dictionaries and exposes no count; when a
    // future version renames them, the count is unknown and taken as "hooks present" (torch's path).
    private static int HookCount(nn.Module module)
    {
        var count = 0;
        foreach (var field in HookFieldsOf.GetOrAdd(module.GetType(), static type => HookFields.Select(name => FindField(type, name)).ToArray()))
        {
            if (field?.GetValue(module) is not System.Collections.ICollection hooks)
            {
                return int.MaxValue;
            }

            count += hooks.Count;
        }

        return count;
    }

    private static readonly string[] HookFields = ["pre_hooks", "post_hooks", "module_pre_hooks", "module_post_hooks"];

    // Looked up once per module type: the check runs every training step.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, System.Reflection.FieldInfo?[]> HookFieldsOf = new();

    private static System.Reflection.FieldInfo? FindField(Type? type, string name)
    {
        for (; type is not null; type = type.BaseType)
        {
            if (type.GetField(name,
                System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic
                    | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.DeclaredOnly) is { } field)
            {
                return field;
            }
        }

        return null;
    }
}
