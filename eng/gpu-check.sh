#!/usr/bin/env bash
# The library on an NVIDIA GPU, with the libraries of an existing PyTorch CUDA install: shipped by
# ./build.sh gpu-bundle (eng/gpu-bundle.sh) beside the app it runs. Needs Linux x86-64, an NVIDIA GPU, and
# python3 with PyTorch >= 2.10 built for CUDA; no .NET, no network. Usage, from the bundle's folder:
#   bash gpu-check.sh [--out DIR]        every check below; findings in DIR (default $OUT, else ./gpu-check-out)
#   bash gpu-check.sh --cpu-rehearsal --libtorch DIR [--out DIR]
#                                        the steps that need no GPU, on the CPU libtorch in DIR (to try the
#                                        bundle on a machine without a GPU)
# The data set is the one the bundle holds (MNIST by default; ./build.sh gpu-bundle --dataset fashion).
# Steps: a CUDA smoke test (matmul and conv2d gradients against the CPU); the case study 5 epochs on the CPU and
# on CUDA (same accuracy required); the validator and DigitClassifier.FromModel on the CUDA-trained model; the
# best preset on CUDA beside PyTorch's same recipe (peer/best.py) on the same GPU; a checkpoint written on CUDA
# resumed on the CPU and the reverse; CUDA asked for where none is visible (CUDA_VISIBLE_DEVICES="").
# Writes DIR/gpu-check.log (everything printed) and DIR/gpu-check.json (every step's findings). Exit 0 when
# every step passed, 1 when one failed or no CUDA device is there.
set -uo pipefail
bundle=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${OUT:-$PWD/gpu-check-out}
rehearsal=0
libtorch=
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --cpu-rehearsal) rehearsal=1; shift ;;
    --libtorch) libtorch=$2; shift 2 ;;
    *) echo "gpu-check.sh: unknown argument '$1' (usage: bash gpu-check.sh [--out DIR] [--cpu-rehearsal --libtorch DIR])" >&2; exit 2 ;;
  esac
done
[ "$rehearsal" = 0 ] || [ -n "$libtorch" ] || { echo "gpu-check.sh: --cpu-rehearsal needs --libtorch DIR (a CPU libtorch 2.10)" >&2; exit 2; }
mkdir -p "$out"
log=$out/gpu-check.log
: >"$log"
say() { printf '==> %s\n' "$*" | tee -a "$log" >&2; }
fail() { printf 'gpu-check.sh: error: %s\n' "$*" | tee -a "$log" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say "gpu-check on $(hostname) at $(date -u +%Y-%m-%dT%H:%M:%SZ); bundle: $(cat "$bundle/BUNDLE.txt" 2>/dev/null | head -n1)"
say "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"

# The GPU and PyTorch's libraries, or a clear stop.
if [ "$rehearsal" = 0 ]; then
  command -v nvidia-smi >/dev/null 2>&1 || fail "no CUDA device: nvidia-smi is not installed (no NVIDIA driver on this machine)"
  gpus=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1) \
    || fail "no CUDA device: nvidia-smi failed: $gpus"
  [ -n "$gpus" ] || fail "no CUDA device: nvidia-smi lists no GPU"
  say "GPU: $gpus"
  command -v python3 >/dev/null 2>&1 || fail "no CUDA device usable: python3 (with PyTorch for CUDA) is not on PATH"
  torch_report=$(python3 - <<'EOF' 2>&1
import glob, os, sys
try:
    import torch
except ImportError as e:
    sys.exit(f"python3 cannot import torch ({e})")
major, minor = (int(p) for p in torch.__version__.split("+")[0].split(".")[:2])
if (major, minor) < (2, 10):
    sys.exit(f"PyTorch {torch.__version__} is older than 2.10 (TorchSharp 0.107.0 is built on libtorch 2.10)")
if torch.version.cuda is None:
    sys.exit(f"PyTorch {torch.__version__} is a CPU-only build")
if not torch.cuda.is_available():
    sys.exit(f"PyTorch {torch.__version__} (CUDA {torch.version.cuda}) sees no CUDA device")
folders = [os.path.join(os.path.dirname(torch.__file__), "lib")]
site = os.path.dirname(os.path.dirname(torch.__file__))
folders += sorted(d for d in glob.glob(os.path.join(site, "nvidia", "**", "lib"), recursive=True) if os.path.isdir(d))
print(f"PyTorch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}")
print(":".join(folders))
EOF
  ) || fail "no CUDA device usable: $torch_report"
  say "$(head -n1 <<<"$torch_report")"
  export LD_LIBRARY_PATH=$(tail -n1 <<<"$torch_report")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
else
  [ -f "$libtorch/libtorch_cpu.so" ] || fail "--libtorch $libtorch holds no libtorch_cpu.so"
  export LD_LIBRARY_PATH=$libtorch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  say "CPU rehearsal on the libtorch in $libtorch: no GPU step runs"
fi
say "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
# TorchSharp copies libtorch out of a NuGet cache when its native library fails to load: an empty cache here, so
# nothing but the libraries above can be picked up.
export NUGET_PACKAGES=$work/no-nuget-packages DOTNET_CLI_TELEMETRY_OPTOUT=1
mkdir -p "$NUGET_PACKAGES"

# The app and the data.
# xz, or Python's lzma where xz-utils is not installed.
unxz_to() {
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$1" >"$2"
  else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
  fi
}
unxz_to "$bundle"/mnistcnn-gpu-check-linux-x64.tar.xz "$work/app.tar" || fail "cannot decompress the app's archive"
tar xf "$work/app.tar" -C "$work" && rm -f "$work/app.tar"
app=$work/app/MnistCnn.Core.GpuCheck
[ -x "$app" ] || fail "the bundle holds no app (expected app/MnistCnn.Core.GpuCheck in the archive)"
missing=$(ldd -r "$work/app/libLibTorchSharp.so" 2>&1 | grep -c 'undefined symbol\|not found' || true)
if command -v nm >/dev/null 2>&1; then
  total="of $(nm -D --undefined-only "$work/app/libLibTorchSharp.so" | wc -l) "
else
  total=
fi
say "libLibTorchSharp.so: $missing ${total}undefined symbols or libraries missing with these libraries (ldd -r)"
# The bundle's one data set (data/<folder>/: MNIST or Fashion-MNIST, xz-compressed, with SHA256SUMS).
dataset=$(ls "$bundle/data")
[ "$(wc -w <<<"$dataset")" = 1 ] || fail "the bundle should hold one data set in data/, not '$dataset'"
mkdir -p "$work/$dataset"
for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  unxz_to "$bundle/data/$dataset/$name.xz" "$work/$dataset/$name" || fail "cannot decompress $bundle/data/$dataset/$name.xz"
done
(cd "$work/$dataset" && sha256sum --check --strict --quiet "$bundle/data/$dataset/SHA256SUMS") >>"$log" 2>&1 \
  || fail "the $dataset files in the bundle do not match their SHA-256 (see $log)"
say "$dataset verified (SHA-256) in $work/$dataset"

# One step: its output to the log, its findings to $work/json/<name>.json; a failure is recorded, not fatal.
mkdir -p "$work/json"
declare -a results=()
step() {
  local name=$1 limit=$2 status
  shift 2
  say "step $name: $*"
  timeout "$limit" "$@" 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
  results+=("$name $status")
  say "step $name: exit $status"
}
json() { echo "$work/json/$1.json"; }
data=(--data "$work/$dataset")

if [ "$rehearsal" = 0 ]; then
  step smoke 120 "$app" smoke --json "$(json smoke)"
fi
step casestudy-cpu 240 "$app" casestudy "${data[@]}" --device cpu --json "$(json casestudy-cpu)"
if [ "$rehearsal" = 0 ]; then
  step casestudy-cuda 240 "$app" casestudy "${data[@]}" --device cuda --json "$(json casestudy-cuda)"
  step best-cuda 300 "$app" best "${data[@]}" --device cuda --json "$(json best-cuda)"
  step pytorch-best-cuda 300 env PYTHONDONTWRITEBYTECODE=1 python3 "$bundle/peer/best.py" "${data[@]}" --device cuda --json "$(json pytorch-best-cuda)"
  step resume-cuda-cpu 240 "$app" resume "${data[@]}" --first cuda --then cpu --json "$(json resume-cuda-cpu)"
  step resume-cpu-cuda 240 "$app" resume "${data[@]}" --first cpu --then cuda --json "$(json resume-cpu-cuda)"
else
  step resume-cpu-cpu 240 "$app" resume "${data[@]}" --first cpu --then cpu --json "$(json resume-cpu-cpu)"
fi
step cuda-absent 120 env CUDA_VISIBLE_DEVICES= "$app" absent --json "$(json cuda-absent)"

# Every step's findings in one file, the case study's CPU and CUDA accuracies compared, and a verdict per step.
python3 - "$work/json" "$out/gpu-check.json" "$dataset" "${results[@]}" <<'EOF' 2>&1 | tee -a "$log"
import json, os, sys
folder, target, dataset, results = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
steps = {}
for entry in results:
    name, status = entry.rsplit(" ", 1)
    path = os.path.join(folder, name + ".json")
    steps[name] = json.load(open(path)) if os.path.exists(path) else {}
    steps[name]["exit_status"] = int(status)
cpu, gpu = steps.get("casestudy-cpu", {}), steps.get("casestudy-cuda", {})
if "final_accuracy" in cpu and "final_accuracy" in gpu:
    same = cpu["final_accuracy"] == gpu["final_accuracy"]
    steps["casestudy-cuda"]["equals_cpu_accuracy"] = same
    if not same:
        steps["casestudy-cuda"]["exit_status"] = steps["casestudy-cuda"]["exit_status"] or 1
    print(f"case study: CPU {cpu['final_accuracy']:.2f}%, CUDA {gpu['final_accuracy']:.2f}%: {'equal' if same else 'DIFFERENT'}")
ours, theirs = steps.get("best-cuda", {}), steps.get("pytorch-best-cuda", {})
if "seconds" in ours and "total_seconds" in theirs:
    print(f"best preset on {ours.get('device_name')}: MnistCnn.Core {ours['final_accuracy']:.2f}% in {ours['seconds']:.1f} s, "
          f"PyTorch {theirs['test_accuracy'][-1]:.2f}% in {theirs['total_seconds']:.1f} s "
          f"(ours / PyTorch {ours['seconds'] / theirs['total_seconds']:.2f}x)")
summary = {name: ("passed" if step["exit_status"] == 0 else "FAILED") for name, step in steps.items()}
with open(target + ".partial", "w") as f:
    json.dump({"dataset": dataset, "summary": summary, "steps": steps}, f, indent=2)
    f.write("\n")
os.replace(target + ".partial", target)
for name, verdict in summary.items():
    print(f"{name:20} {verdict}")
sys.exit(0 if all(v == "passed" for v in summary.values()) else 1)
EOF
verdict=${PIPESTATUS[0]}
say "findings: $out/gpu-check.json, log: $log"
exit "$verdict"
