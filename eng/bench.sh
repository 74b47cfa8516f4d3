#!/usr/bin/env bash
# Benchmarks (./build.sh bench): the case study, one run after another on this machine, in PyTorch
# (faithful with a DataLoader, preloaded, and with oneDNN on unless --no-onednn) and in MnistCnn.Core;
# prints the table with the ratios ours/PyTorch and writes it to artifacts/bench/ (docs/performance.md).
# `bench micro [ARGS]` runs the BenchmarkDotNet micro-benchmarks of the hot paths instead.
# MNISTCNN_BENCH_THREADS (2) and MNISTCNN_BENCH_EPOCHS (5) set every run's threads and epochs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$repo/eng/torch-env.sh"

bench_project=tests/MnistCnn.Core.Benchmarks
bench_dll=$bench_project/bin/Release/net10.0/MnistCnn.Core.Benchmarks.dll

bench() {
  if [ "${1:-}" = micro ]; then
    shift
    run_torch dotnet build "$bench_project" -c Release -p:UseSharedCompilation=false -v:q -nologo
    run_torch dotnet "$bench_dll" micro "$@"
    return
  fi
  local onednn=1
  while [ $# -gt 0 ]; do
    case "$1" in
      --no-onednn) onednn=0 ;;
      *) die "bench: unknown argument '$1' (expected --no-onednn, or 'micro ...')" ;;
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
  local load_before columns=() mode name
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  # One after another, never in parallel: the machine has two cores and every run gets the same threads.
  for mode in faithful preloaded onednn; do
    [ "$mode" = onednn ] && [ "$onednn" = 0 ] && continue
    name=pytorch-$mode
    say "PyTorch, $mode ($threads threads, $epochs epochs)"
    if [ "$mode" = onednn ]; then
      run_torch env PYTHONDONTWRITEBYTECODE=1 python3 tests/peer/casestudy.py --data "$data" --seed 0 --epochs "$epochs" \
        --threads "$threads" --mode faithful --kernels onednn --json "$out/$stamp-$name.json"
    else
      run_torch env PYTHONDONTWRITEBYTECODE=1 python3 tests/peer/casestudy.py --data "$data" --seed 0 --epochs "$epochs" \
        --threads "$threads" --mode "$mode" --json "$out/$stamp-$name.json"
    fi
    columns+=("$mode=$out/$stamp-$name.json")
  done
  say "MnistCnn.Core ($threads threads, $epochs epochs)"
  run_torch dotnet "$bench_dll" train "$data" --seed 0 --epochs "$epochs" --threads "$threads" --json "$out/$stamp-mnistcnn.json"
  columns+=("ours=$out/$stamp-mnistcnn.json")
  local context
  context="$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $threads threads, $epochs epochs, seed 0; load average (1/5/15 min) $load_before at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  run_torch dotnet "$bench_dll" report --out "$out/$stamp-summary.json" --context "$context" "${columns[@]}"
  cp "$out/$stamp-summary.json" "$out/latest-summary.json"
}

bench "$@"
