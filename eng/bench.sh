#!/usr/bin/env bash
# Benchmarks (./build.sh bench): first the kernel check (tests/peer/kernel_check.py), which names the fastest
# PyTorch convolution configuration that is correct on this machine; then the case study, one run after another,
# in PyTorch with those kernels (faithful with a DataLoader, and preloaded) and in MnistCnn.Core; prints the
# machine's CPU and ISA, the table and the ratios ours/PyTorch, then times prediction the same way (as
# `bench inference`) and adds its rows, and writes them all to artifacts/bench/ (docs/performance.md). `--kernels K` overrides the checked choice (native, onednn, onednn-nhwc).
# `bench best` runs only the best preset's pair (MNISTCNN_BENCH_BEST_EPOCHS, default 2, sets its epochs); `bench augment`
# times an epoch of batches without augmentation, with the managed augmentation and with torch's, in one run.
# `bench micro [ARGS]` runs the BenchmarkDotNet micro-benchmarks of the hot paths and of the sigmoid pass (256 against 512 bits) instead.
# `bench predict [MODEL]` times the managed classifier alone (no torch), for A/B runs of two builds.
# `bench predict-profile [MODEL]` times one image's prediction per layer and part (columns, product, epilogue), 1 thread.
# `bench step-profile [NETWORK]` times the engine's training step alone (no optimizer; default convnet), then each part, 1 thread.
# `bench profile` times the case study's steps through Trainer.Step (batch, gradients, optimizer), then torch's path per phase.
# `bench gemm [ARGS]` times the engine's matrix product per vector width beside torch.matmul (1 thread) instead.
# `bench inference [MODEL]` times prediction instead: the managed DigitClassifier, TorchSharp's forward and PyTorch's
# model(x) (tests/peer/inference_bench.py) with the same weights, one after another in one run; without MODEL, both
# shipped networks (LeNet, then the case study's ConvNet).
# MNISTCNN_BENCH_THREADS (2) and MNISTCNN_BENCH_EPOCHS (5) set every run's threads and epochs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$repo/eng/torch-env.sh"

bench_project=tests/MnistCnn.Core.Benchmarks
bench_dll=$bench_project/bin/Release/net10.0/MnistCnn.Core.Benchmarks.dll

# Inference runs: PyTorch first (its JSON joins ours), then the managed classifier and TorchSharp in one process.
# Writes <out>/<stamp>-inference-pytorch.json, -inference.json and -inference.md.
inference_runs() {
  local data=$1 threads=$2 out=$3 stamp=$4 model=$5
  say "PyTorch inference (1 thread for single images, $threads threads for the batch)"
  run_torch env PYTHONDONTWRITEBYTECODE=1 python3 tests/peer/inference_bench.py --model "$model" --data "$data" \
    --threads "$threads" --json "$out/$stamp-inference-pytorch.json"
  say "MnistCnn.Core and TorchSharp inference"
  run_torch dotnet "$bench_dll" inference "$data" --model "$model" --threads "$threads" \
    --peer "$out/$stamp-inference-pytorch.json" --markdown "$out/$stamp-inference.md" --json "$out/$stamp-inference.json"
  cp "$out/$stamp-inference.md" "$out/latest-inference.md"
}

bench_inference() {
  local data=data/mnist threads=${MNISTCNN_BENCH_THREADS:-2} out=artifacts/bench stamp
  MNISTCNN_DATA_DIR="$repo/$data" "$repo/eng/data.sh"
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  mkdir -p "$out"
  run_torch dotnet build "$bench_project" -c Release -p:UseSharedCompilation=false -v:q -nologo
  ensure_python_torch
  say "$(cpu_line)"
  if [ $# -gt 0 ]; then
    inference_runs "$data" "$threads" "$out" "$stamp" "$1"
    return
  fi
  # Both shipped networks: the default model (LeNet, through the engine's generic layers), then the case study's.
  inference_runs "$data" "$threads" "$out" "$stamp-lenet" src/MnistCnn.Core/Inference/Pretrained/lenet.safetensors
  inference_runs "$data" "$threads" "$out" "$stamp-convnet" src/MnistCnn.Core/Inference/Pretrained/convnet.safetensors
  cat "$out/$stamp-lenet-inference.md" "$out/$stamp-convnet-inference.md" >"$out/latest-inference.md"
}

# The kernel check (tests/peer/kernel_check.py): prints the fastest of PyTorch's convolution kernels that is correct on
# this machine, or fails when none is. Writes its JSON to $2.
checked_kernels() {
  local threads=$1 json=$2 choice
  say "kernel check: PyTorch's convolution kernels against float64 on this machine" >&2
  run_torch env PYTHONDONTWRITEBYTECODE=1 python3 tests/peer/kernel_check.py --threads "$threads" --json "$json" >&2 || true
  choice=$(sed -n 's/.*"fastest_correct": "\([a-z-]*\)".*/\1/p' "$json" 2>/dev/null || true)
  [ -n "$choice" ] || { say "bench: no PyTorch kernel choice is correct on this machine (see the check above)" >&2; return 1; }
  echo "$choice"
}

# The best preset (./build.sh bench, or alone as `bench best`): PyTorch's recipe and ours, one after the other.
best_runs() {
  local data=$1 threads=$2 out=$3 stamp=$4 kernels=$5
  # The best preset (TrainingRecipe.Best: LeNet, augmentation, one-cycle Adam, label smoothing): PyTorch's recipe, then ours, then the
  # shipped LeNet's prediction beside TorchSharp's and PyTorch's forward of the same weights.
  local best_epochs=${MNISTCNN_BENCH_BEST_EPOCHS:-2} load_before context
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  say "PyTorch, the best preset's recipe, $kernels kernels ($threads threads, $best_epochs epochs)"
  run_torch env PYTHONDONTWRITEBYTECODE=1 python3 tests/peer/best.py --data "$data" --epochs "$best_epochs" \
    --threads "$threads" --kernels "$kernels" --json "$out/$stamp-pytorch-best.json"
  say "MnistCnn.Core, the best preset ($threads threads, $best_epochs epochs)"
  run_torch dotnet "$bench_dll" train "$data" --preset best --seed 0 --epochs "$best_epochs" --threads "$threads" \
    --json "$out/$stamp-mnistcnn-best.json"
  local lenet=src/MnistCnn.Core/Inference/Pretrained/lenet.safetensors
  inference_runs "$data" "$threads" "$out" "$stamp-lenet" "$lenet"
  context="$(date -u +%Y-%m-%dT%H:%M:%SZ); CPU: $(cpu_line); $(nproc) cores, $threads threads, best preset, $best_epochs epochs; load average (1/5/15 min) $load_before at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  run_torch dotnet "$bench_dll" report --out "$out/$stamp-best-summary.json" --context "$context" \
    --inference "$out/$stamp-lenet-inference.json" --inference-peer "$out/$stamp-lenet-inference-pytorch.json" \
    "pytorch-best-preset=$out/$stamp-pytorch-best.json" "ours=$out/$stamp-mnistcnn-best.json"
  cp "$out/$stamp-best-summary.json" "$out/latest-best-summary.json"
}

bench() {
  if [ "${1:-}" = best ] || [ "${1:-}" = augment ]; then
    local data=data/mnist threads=${MNISTCNN_BENCH_THREADS:-2} out=artifacts/bench stamp
    MNISTCNN_DATA_DIR="$repo/$data" "$repo/eng/data.sh"
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    mkdir -p "$out"
    run_torch dotnet build "$bench_project" -c Release -p:UseSharedCompilation=false -v:q -nologo
    say "$(cpu_line)"
    if [ "$1" = augment ]; then
      run_torch dotnet "$bench_dll" augment "$data"
    else
      ensure_python_torch
      local kernels
      kernels=$(checked_kernels "$threads" "$out/$stamp-kernel-check.json") || die "bench best: no PyTorch kernel choice is correct here"
      best_runs "$data" "$threads" "$out" "$stamp" "$kernels"
    fi
    return
  fi
  if [ "${1:-}" = inference ]; then
    shift
    bench_inference "$@"
    return
  fi
  if [ "${1:-}" = predict ]; then
    shift
    run_torch dotnet build "$bench_project" -c Release -p:UseSharedCompilation=false -v:q -nologo
    say "$(cpu_line); load average $(cut -d' ' -f1-3 /proc/loadavg)"
    run_torch dotnet "$bench_dll" predict data/mnist --model "${1:-src/MnistCnn.Core/Inference/Pretrained/lenet.safetensors}" \
      --threads "${MNISTCNN_BENCH_THREADS:-2}"
    return
  fi
  if [ "${1:-}" = predict-profile ]; then
    shift
    run_torch dotnet build "$bench_project" -c Release -p:UseSharedCompilation=false -v:q -nologo
    say "$(cpu_line); load average $(cut -d' ' -f1-3 /proc/loadavg)"
    run_torch dotnet "$bench_dll" predict-profile data/mnist --model "${1:-src/MnistCnn.Core/Inference/Pretrained/lenet.safetensors}"
    return
  fi
  if [ "${1:-}" = step-profile ]; then
    shift
    run_torch dotnet build "$bench_project" -c Release -p:UseSharedCompilation=false -v:q -nologo
    say "$(cpu_line); load average $(cut -d' ' -f1-3 /proc/loadavg)"
    run_torch dotnet "$bench_dll" engine-step data/mnist --network "${1:-convnet}" --threads "${MNISTCNN_BENCH_THREADS:-2}" --steps 300
    return
  fi
  if [ "${1:-}" = profile ]; then
    run_torch dotnet build "$bench_project" -c Release -p:UseSharedCompilation=false -v:q -nologo
    say "$(cpu_line); load average $(cut -d' ' -f1-3 /proc/loadavg)"
    run_torch dotnet "$bench_dll" profile data/mnist --threads "${MNISTCNN_BENCH_THREADS:-2}" --steps 1000
    return
  fi
  if [ "${1:-}" = gemm ]; then
    shift
    local out=artifacts/bench stamp
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    mkdir -p "$out"
    run_torch dotnet build "$bench_project" -c Release -p:UseSharedCompilation=false -v:q -nologo
    say "$(cpu_line)"
    run_torch dotnet "$bench_dll" gemm --json "$out/$stamp-gemm.json" "$@"
    return
  fi
  if [ "${1:-}" = micro ]; then
    shift
    run_torch dotnet build "$bench_project" -c Release -p:UseSharedCompilation=false -v:q -nologo
    run_torch dotnet "$bench_dll" micro "$@"
    return
  fi
  local kernels=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --kernels) [ $# -ge 2 ] || die "bench: --kernels needs a value"; kernels=$2; shift ;;
      *) die "bench: unknown argument '$1' (expected --kernels native|onednn|onednn-nhwc, or 'micro ...')" ;;
    esac
    shift
  done
  # The peer sees only the repository (it runs in the Debian 13 root on older hosts), so the data lives here.
  local data=data/mnist threads=${MNISTCNN_BENCH_THREADS:-2} epochs=${MNISTCNN_BENCH_EPOCHS:-5}
  MNISTCNN_DATA_DIR="$repo/$data" "$repo/eng/data.sh"
  local out=artifacts/bench stamp
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  mkdir -p "$out"
  say "building $bench_project (Release)"
  run_torch dotnet build "$bench_project" -c Release -p:UseSharedCompilation=false -v:q -nologo
  ensure_python_torch
  local load_before columns=() mode name checked
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  checked=$(checked_kernels "$threads" "$out/$stamp-kernel-check.json" || true)
  if [ -z "$kernels" ]; then
    [ -n "$checked" ] || die "bench: no PyTorch kernel choice is correct on this machine (see the check above); choose one with --kernels"
    kernels=$checked
  fi
  # One after another, never in parallel: the machine has two cores and every run gets the same threads.
  for mode in faithful preloaded; do
    name=pytorch-$mode
    say "PyTorch, $mode, $kernels kernels ($threads threads, $epochs epochs)"
    run_torch env PYTHONDONTWRITEBYTECODE=1 python3 tests/peer/casestudy.py --data "$data" --seed 0 --epochs "$epochs" \
      --threads "$threads" --mode "$mode" --kernels "$kernels" --json "$out/$stamp-$name.json"
    columns+=("$mode=$out/$stamp-$name.json")
  done
  say "MnistCnn.Core ($threads threads, $epochs epochs)"
  run_torch dotnet "$bench_dll" train "$data" --seed 0 --epochs "$epochs" --threads "$threads" --json "$out/$stamp-mnistcnn.json"
  columns+=("ours=$out/$stamp-mnistcnn.json")
  inference_runs "$data" "$threads" "$out" "$stamp" src/MnistCnn.Core/Inference/Pretrained/convnet.safetensors
  local context
  context="$(date -u +%Y-%m-%dT%H:%M:%SZ); CPU: $(cpu_line); $(nproc) cores, $threads threads, $epochs epochs, seed 0; PyTorch kernels: $kernels (kernel check: ${checked:-none correct}); load average (1/5/15 min) $load_before at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  run_torch dotnet "$bench_dll" report --out "$out/$stamp-summary.json" --context "$context" \
    --inference "$out/$stamp-inference.json" --inference-peer "$out/$stamp-inference-pytorch.json" "${columns[@]}"
  cp "$out/$stamp-summary.json" "$out/latest-summary.json"

  best_runs "$data" "$threads" "$out" "$stamp" "$kernels"
}

bench "$@"
