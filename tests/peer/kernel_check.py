"""Checks PyTorch's convolution kernels on this machine against a float64 computation.

For the case study's two convolutions (conv1: 1 -> 3 channels on 28x28, conv2: 3 -> 6 channels on 26x26,
3x3, batch 64), it computes the forward output, the input gradient and the weight and bias gradients in
float32 with each kernel choice, and compares them with the same computation in float64 (PyTorch's own
kernels, which do not use oneDNN for float64):

  native       PyTorch's own kernels (torch.backends.mkldnn.enabled = False)
  onednn       oneDNN on contiguous NCHW tensors: what a default PyTorch install runs
  onednn-nhwc  oneDNN on channels-last tensors

each with 1 and 2 threads, over several random draws (some faults appear on some calls only). A choice is
correct when every relative error (largest absolute difference over the largest reference magnitude) is
below the tolerance and nothing is NaN. It also times one forward+backward of both layers per choice (for
information: on a shared machine such short timings are noisy) and names the baseline the benchmark uses:
the first correct choice of oneDNN NCHW (PyTorch's default), oneDNN channels-last, native. oneDNN is the
faster family for this network; native alone is PyTorch's slowest configuration and is used only when
neither oneDNN layout is correct.

Run: ./build.sh peer -- tests/peer/kernel_check.py [--json OUT]
"""
import argparse
import json
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from convnet import KERNELS, configure_kernels

LAYERS = {
    # name: (in channels, out channels, input side)
    "conv1": (1, 3, 28),
    "conv2": (3, 6, 26),
}
BATCH = 64
TOLERANCE = 1e-4
PREFERENCE = ("onednn", "onednn-nhwc", "native")
# Quantities a training step computes; conv1's input gradient is not one (the images need no gradient).
NOT_IN_TRAINING = {("conv1", "input_grad")}


def cpu_description():
    """The CPU model and the vector ISA levels that decide which kernels run."""
    model, flags = platform.processor() or "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model in ("unknown", "", platform.machine()):
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    isa = [name for name, flag in (("AVX2", "avx2"), ("FMA", "fma"), ("AVX-512F", "avx512f"),
                                   ("AVX-512BW", "avx512bw"), ("AVX-512VNNI", "avx512_vnni"),
                                   ("AVX-512BF16", "avx512_bf16")) if flag in flags]
    return model, isa


def relative_error(value, reference):
    if torch.isnan(value).any() or torch.isinf(value).any():
        return float("nan")
    scale = reference.abs().max().item()
    return (value.double() - reference).abs().max().item() / (scale if scale > 0 else 1.0)


def conv_results(x, w, b, upstream, memory_format, input_grad=True):
    """Forward output and the gradients of conv2d(x, w, b) against the upstream gradient."""
    x = x.detach().clone().contiguous(memory_format=memory_format).requires_grad_(input_grad)
    w = w.detach().clone().contiguous(memory_format=memory_format).requires_grad_(True)
    b = b.detach().clone().requires_grad_(True)
    y = F.conv2d(x, w, b)
    y.backward(upstream.contiguous(memory_format=memory_format))
    return {"output": y.detach(), "input_grad": x.grad, "weight_grad": w.grad, "bias_grad": b.grad}


def draw(layer, generator):
    cin, cout, side = LAYERS[layer]
    bound = 1.0 / (cin * 9) ** 0.5  # PyTorch's default Conv2d initialisation range
    x = torch.rand(BATCH, cin, side, side, generator=generator, dtype=torch.float64)
    w = (torch.rand(cout, cin, 3, 3, generator=generator, dtype=torch.float64) * 2 - 1) * bound
    b = (torch.rand(cout, generator=generator, dtype=torch.float64) * 2 - 1) * bound
    upstream = torch.randn(BATCH, cout, side - 2, side - 2, generator=generator, dtype=torch.float64) / BATCH
    return x, w, b, upstream


def check(draws, repeats):
    """Worst relative error per layer, kernel choice, thread count and quantity."""
    rows = []
    generator = torch.Generator().manual_seed(20261128)
    cases = {layer: [draw(layer, generator) for _ in range(draws)] for layer in LAYERS}
    for layer, samples in cases.items():
        configure_kernels("native")
        references = [conv_results(*s, torch.contiguous_format) for s in samples]
        for kernels in KERNELS:
            memory_format = configure_kernels(kernels)
            for threads in (1, 2):
                torch.set_num_threads(threads)
                worst = {}
                for sample, reference in zip(samples, references):
                    single = [t.float() for t in sample]
                    for _ in range(repeats):
                        result = conv_results(*single, memory_format)
                        for name, value in result.items():
                            error = relative_error(value, reference[name])
                            previous = worst.get(name, 0.0)
                            worst[name] = error if (error != error or previous != previous) else max(previous, error)
                rows.append({"layer": layer, "kernels": kernels, "threads": threads, "errors": worst})
    return rows


def time_choice(kernels, threads, iterations):
    """Median seconds of one forward+backward of conv1 then conv2 on a batch, with this choice."""
    memory_format = configure_kernels(kernels)
    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(7)
    samples = {layer: [t.float() for t in draw(layer, generator)] for layer in LAYERS}
    times = []
    for i in range(iterations + 3):
        start = time.perf_counter()
        for layer, sample in samples.items():
            conv_results(*sample, memory_format, input_grad=(layer, "input_grad") not in NOT_IN_TRAINING)
        if i >= 3:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--draws", type=int, default=4, help="random inputs per layer (default 4)")
    p.add_argument("--repeats", type=int, default=5, help="calls per input and choice (default 5)")
    p.add_argument("--timing-iterations", type=int, default=30, help="timed forward+backward passes (default 30)")
    p.add_argument("--threads", type=int, default=2, help="threads for the timing and the verdict (default 2)")
    p.add_argument("--json", dest="json_out", default=None, help="write the results here")
    args = p.parse_args()

    model, isa = cpu_description()
    print(f"CPU: {model}; ISA: {' '.join(isa) or 'none detected'}; torch {torch.__version__}; "
          f"oneDNN {'available' if torch.backends.mkldnn.is_available() else 'unavailable'}")
    rows = check(args.draws, args.repeats)
    print(f"{'layer':6} {'kernels':12} {'threads':>7} {'output':>10} {'input grad':>11} {'weight grad':>12} {'bias grad':>10}"
          "   (conv1's input gradient is not computed in training and does not count)")
    for r in rows:
        e = r["errors"]
        print(f"{r['layer']:6} {r['kernels']:12} {r['threads']:>7} {e['output']:>10.2e} {e['input_grad']:>11.2e} "
              f"{e['weight_grad']:>12.2e} {e['bias_grad']:>10.2e}")

    verdicts = {}
    for kernels in KERNELS:
        errors = [v for r in rows if r["kernels"] == kernels for name, v in r["errors"].items()
                  if (r["layer"], name) not in NOT_IN_TRAINING]
        correct = all(v == v and v < TOLERANCE for v in errors)
        seconds = time_choice(kernels, args.threads, args.timing_iterations)
        verdicts[kernels] = {"correct": correct, "worst_relative_error": max(errors) if all(v == v for v in errors)
                             else float("nan"), "seconds_forward_backward": seconds}
        print(f"{kernels:12} {'correct' if correct else 'WRONG':8} worst relative error "
              f"{verdicts[kernels]['worst_relative_error']:.2e}; conv1+conv2 forward+backward of a batch of {BATCH}: "
              f"{seconds * 1e3:.2f} ms ({args.threads} threads)")
    correct = [k for k in KERNELS if verdicts[k]["correct"]]
    fastest = next((k for k in PREFERENCE if k in correct), None)
    print(f"PyTorch baseline: {fastest or 'none'} (the first correct of {', '.join(PREFERENCE)}; tolerance {TOLERANCE:g})")

    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"cpu": model, "isa": isa, "torch": torch.__version__, "tolerance": TOLERANCE,
                       "batch": BATCH, "draws": args.draws, "repeats": args.repeats, "rows": rows,
                       "verdicts": verdicts, "fastest_correct": fastest}, f, indent=2)
    return 0 if fastest else 1


if __name__ == "__main__":
    sys.exit(main())
