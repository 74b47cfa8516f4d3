using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MnistCnn.Core.Inference;

namespace MnistCnn.Samples.Wasm;

/// <summary>
/// The page: a drawing pad (pad.js draws and reads its pixels) and the classifier's answer with its ten
/// probabilities. The result panel's <c>data-state</c> says what it shows: <c>loading</c> (the classifier is not
/// ready yet), <c>empty</c>, <c>ready</c> (the answer for the drawing as it is), <c>pending</c> (an answer for an
/// earlier stroke) or <c>error</c>.
/// </summary>
public sealed partial class DigitPad : ComponentBase
{
    private ElementReference _pad;
    private ElementReference _clear;
    private IJSObjectReference? _module;
    private DotNetObjectReference<DigitPad>? _self;
    private PadClassifier? _classifier;
    private BrowserPrediction? _shown;
    private string _state = "loading";
    private string _summary = "Loading the classifier…";
    private string _modelName = "loading…";

    [Inject]
    private IJSRuntime JS { get; set; } = null!;

    [Inject]
    private NavigationManager Navigation { get; set; } = null!;

    private string ResultClass => _shown is { IsLikelyDigit: false } && _state is "ready" or "pending" ? "result unsure" : "result";

    private string DigitText => _state switch
    {
        "ready" or "pending" => _shown!.Prediction.Digit.ToString(CultureInfo.InvariantCulture),
        "error" => "!",
        _ => "–",
    };

    private string? LikelyDigitAttribute => Showing ? (_shown!.IsLikelyDigit ? "true" : "false") : null;

    // The exact probabilities, for whoever checks the page's answers against the library's.
    private string? ProbabilitiesAttribute =>
        Showing ? string.Join(' ', _shown!.Prediction.Probabilities.Select(p => p.ToString("R", CultureInfo.InvariantCulture))) : null;

    private string? PreparationAttribute => Showing ? _shown!.PreparationMs.ToString("R", CultureInfo.InvariantCulture) : null;

    private string? NetworkAttribute => Showing ? _shown!.NetworkMs.ToString("R", CultureInfo.InvariantCulture) : null;

    private string TimingText => Showing
        ? string.Create(CultureInfo.InvariantCulture, $"Preparing the drawing took {_shown!.PreparationMs:0.00} ms, the network {_shown.NetworkMs:0.00} ms.")
        : string.Empty;

    private bool Showing => _shown is not null && _state is "ready" or "pending";

    /// <summary>Called by pad.js when the pad has been cleared.</summary>
    [JSInvokable]
    public void ShowEmpty()
    {
        _shown = null;
        _state = "empty";
        _summary = "Draw a digit to start.";
        StateHasChanged();
    }

    /// <summary>Called by pad.js when the drawing changes while an answer for an earlier drawing is shown.</summary>
    [JSInvokable]
    public void ShowPending()
    {
        if (_state == "ready")
        {
            _state = "pending";
            StateHasChanged();
        }
    }

    /// <summary>Called by pad.js with the pad's grey pixels (one byte each, row after row): classifies them and shows the answer.</summary>
    [JSInvokable]
    public void Predict(byte[] grey, int width, int height)
    {
        try
        {
            _shown = _classifier!.Classify(grey, width, height);
            _state = "ready";
            _summary = _shown.IsLikelyDigit
                ? $"{Percent(_shown.Prediction.Confidence)} sure."
                : $"Looks most like a {_shown.Prediction.Digit} ({Percent(_shown.Prediction.Confidence)}), but may not be a digit at all.";
        }
        catch (ArgumentException e)
        {
            // DigitImage's documented refusal of a picture it cannot read: said on the page, never thrown into it.
            _shown = null;
            _state = "error";
            _summary = $"This drawing cannot be classified: {e.Message}";
        }

        StateHasChanged();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_module is not null)
        {
            try
            {
                await _module.InvokeVoidAsync("detach", _pad);
                await _module.DisposeAsync();
            }
            catch (JSDisconnectedException)
            {
                // The page is going away: nothing left to detach.
            }
        }

        _self?.Dispose();
    }

    /// <inheritdoc/>
    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (!firstRender)
        {
            return;
        }

        // Marks that split the time to the first prediction: runtime start and first render, then the model.
        await JS.InvokeVoidAsync("performance.mark", "digit-pad-rendered");

        // pad.js downloads while the model's weights are read: the tab runs one thread, but a fetch does not need it.
        var module = JS.InvokeAsync<IJSObjectReference>("import", "./pad.js");
        _classifier = new PadClassifier(DigitClassifier.Pretrained(ChosenModel()));
        _modelName = _classifier.ModelName;
        await JS.InvokeVoidAsync("performance.mark", "digit-pad-model-loaded");
        _classifier.WarmUp();
        await JS.InvokeVoidAsync("performance.mark", "digit-pad-warmed-up");
        _self = DotNetObjectReference.Create(this);
        _module = await module;
        // pad.js clears the pad (which shows the empty state) and marks the page ready to predict.
        await _module.InvokeVoidAsync("attach", _pad, _clear, _self);
    }

    // The package's default network, or the case study's with ?model=case-study in the address.
    private PretrainedModel ChosenModel() =>
        new Uri(Navigation.Uri).Query.Contains("model=case-study", StringComparison.Ordinal) ? PretrainedModel.CaseStudy : PretrainedModel.Best;

    private bool IsTop(int digit) => Showing && _shown!.Prediction.Digit == digit;

    private string BarWidth(int digit) =>
        Showing ? string.Create(CultureInfo.InvariantCulture, $"{_shown!.Prediction.Probabilities[digit] * 100:0.0}%") : "0";

    private string BarValue(int digit) => Showing ? Percent(_shown!.Prediction.Probabilities[digit]) : "–";

    private string BarLabel(int digit) =>
        Showing ? $"{digit}: {Percent(_shown!.Prediction.Probabilities[digit])}" : $"{digit}: no prediction yet";

    private static string Percent(float p) =>
        (p * 100).ToString(p >= 0.995f || p < 0.0005f ? "0" : "0.0", CultureInfo.InvariantCulture) + "%";
}
