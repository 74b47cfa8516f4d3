#!/usr/bin/env bash
# Trains the library's pretrained model with the repository's own training command and writes it, with its
# settings, data SHA-256s and test accuracy in the safetensors __metadata__ and in convnet.json, to
# src/MnistCnn.Core/Inference/Pretrained/ (embedded in the package).
#
#   eng/pretrained.sh           train and replace the committed model
#   eng/pretrained.sh --check   train into artifacts/pretrained and fail unless the result equals the
#                               committed files byte for byte
#
# Same machine type and thread count give the same bytes (docs/training.md, "Determinism and seeds").
# It packs and restores MnistCnn.Core like ./build.sh train; run it under the package lock on shared machines.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *) echo "pretrained: unknown argument '$1' (expected --check)" >&2; exit 2 ;;
esac

# The case study's settings, recorded in the model file.
seed=0 epochs=5 batch=64 lr=0.01
data=${MNISTCNN_DATA_DIR:-data/mnist}
committed=src/MnistCnn.Core/Inference/Pretrained
work=artifacts/pretrained
rm -rf "$work"
train_args=(--seed "$seed" --epochs "$epochs" --batch-size "$batch" --lr "$lr")

./build.sh train "${train_args[@]}" --output "$work/train"

out=$committed
[ "$check" = 1 ] && out=$work/model
torchsharp=$(sed -n 's:.*<PackageVersion Include="TorchSharp" Version="\([^"]*\)".*:\1:p' Directory.Packages.props)
dotnet run --project eng/MnistCnn.Core.Pretrained -c Release -p:UseSharedCompilation=false -- \
  --trained "$work/train" --data "$data" --out "$out" \
  --setting "training_command=./build.sh train ${train_args[*]}" \
  --setting "seed=$seed" --setting "epochs=$epochs" --setting "batch_size=$batch" --setting "learning_rate=$lr" \
  --setting "shuffle=false" --setting "torchsharp=$torchsharp"

if [ "$check" = 1 ]; then
  for f in convnet.safetensors convnet.json; do
    if ! cmp "$out/$f" "$committed/$f"; then
      echo "pretrained --check: the regenerated $f differs from $committed/$f" >&2
      exit 1
    fi
  done
  echo "==> pretrained --check: the regenerated model equals $committed/convnet.safetensors byte for byte ($(sha256sum <"$out/convnet.safetensors" | cut -d' ' -f1))" >&2
fi
