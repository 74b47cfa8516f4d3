#!/usr/bin/env bash
# The speedrun (./build.sh speedrun [--seeds N] [--kernels K] [--no-peer]): trains the library's speedrun recipe
# (TrainingRecipe.Speedrun, through the Train sample's --preset speedrun) once per seed 0..N-1 (default 10), one
# process after another, then the same recipe in PyTorch (tests/peer/speedrun.py, same threads) unless --no-peer.
# Prints each seed's test accuracy, training time (validation excluded) and wall time (the whole process), the
# means and medians of both, the CPU line and the load average before and after; writes the log and the JSON to
# artifacts/speedrun/<stamp>.{log,json} (eng/speedrun-report.py). --kernels picks PyTorch's convolution kernels
# (default onednn-nhwc: its fastest that is correct on this project's machines, see tests/peer/convnet.py).
# MNISTCNN_BENCH_THREADS (2) sets both sides' threads.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$repo/eng/torch-env.sh"

speedrun() {
  local seeds=10 kernels=onednn-nhwc peer=1 threads=${MNISTCNN_BENCH_THREADS:-2}
  while [ $# -gt 0 ]; do
    case "$1" in
      --seeds) [ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || die "speedrun: --seeds needs a whole number above 0"; seeds=$2; shift ;;
      --kernels) [ $# -ge 2 ] || die "speedrun: --kernels needs native, onednn or onednn-nhwc"; kernels=$2; shift ;;
      --no-peer) peer=0 ;;
      *) die "speedrun: unknown argument '$1' (expected --seeds N, --kernels K, --no-peer)" ;;
    esac
    shift
  done
  local data=data/mnist out=artifacts/speedrun stamp project=samples/MnistCnn.Samples.Train
  MNISTCNN_DATA_DIR="$repo/$data" "$repo/eng/data.sh"
  "$repo/eng/pack.sh" -v q
  ensure_plot_font
  [ "$peer" = 0 ] || ensure_python_torch
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  mkdir -p "$out/$stamp"
  say "building $project (Release)"
  run_torch dotnet build "$project" -c Release -p:UseSharedCompilation=false -v:q -nologo
  local dll=$project/bin/Release/net10.0/MnistCnn.Samples.Train.dll
  [ -f "$dll" ] || die "speedrun: $dll was not built"

  local cpu load_before seed start end
  cpu=$(cpu_line)
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  say "CPU: $cpu; $(nproc) cores, $threads threads; load average (1/5/15 min) $load_before"
  : > "$out/$stamp/walls.txt"
  for ((seed = 0; seed < seeds; seed++)); do
    say "MnistCnn.Core, speedrun preset, seed $seed"
    start=$(date +%s.%N)
    run_torch env DOTNET_gcServer=0 OMP_NUM_THREADS="$threads" dotnet "$dll" --preset speedrun --seed "$seed" \
      --data "$data" --output "$out/$stamp/seed-$seed" | grep -E '^(Epoch|Final|Training time)'
    end=$(date +%s.%N)
    echo "$seed $start $end" >> "$out/$stamp/walls.txt"
  done
  if [ "$peer" = 1 ]; then
    say "PyTorch, the same recipe ($threads threads, $kernels kernels)"
    run_torch env PYTHONDONTWRITEBYTECODE=1 python3 tests/peer/speedrun.py --data "$data" --seeds "$seeds" \
      --threads "$threads" --kernels "$kernels" --json "$out/$stamp/pytorch.json"
  fi
  local load_after
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  run_torch env PYTHONDONTWRITEBYTECODE=1 python3 eng/speedrun-report.py --folder "$out/$stamp" \
    --context "$(date -u +%Y-%m-%dT%H:%M:%SZ); CPU: $cpu; $(nproc) cores, $threads threads; load average (1/5/15 min) $load_before before, $load_after after" \
    --log "$out/$stamp.log" --json "$out/$stamp.json"
  cp "$out/$stamp.log" "$out/latest.log"
}

speedrun "$@"
