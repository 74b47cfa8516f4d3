using System.Diagnostics.CodeAnalysis;

// DescribedLayers.HookCount reads TorchSharp's private hook dictionaries by reflection. When trimming has removed
// them (or a TorchSharp version renames them) the field is not found and the count is taken as "hooks present", so
// training goes through torch's forward and the hooks still run: slower, never wrong. Inference never gets there.
[assembly: UnconditionalSuppressMessage("Trimming", "IL2070", Scope = "member",
    Target = "M:MnistCnn.Core.Models.DescribedLayers.FindField(System.Type,System.String)",
    Justification = "A field trimmed away is handled as unknown hooks: training takes torch's path.")]
