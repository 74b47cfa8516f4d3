using TorchSharp.Modules;

namespace MnistCnn.Core.Engine;

/// <summary>A torch module built from a <see cref="NetworkDescription"/>, which the engine can train and evaluate in managed code.</summary>
internal interface IEngineNetwork
{
    /// <summary>The network's description.</summary>
    NetworkDescription Description { get; }

    /// <summary>Whether a forward hook is registered where the module's forward would run it: then only torch's path runs it.</summary>
    bool HasHooks { get; }

    /// <summary>The parameters in the description's order.</summary>
    Parameter[] EngineParameters();
}
