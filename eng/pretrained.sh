#!/usr/bin/env bash
# Trains one of the library's pretrained models with the repository's own training command and writes it, with
# its architecture, settings, data SHA-256s and test accuracy in the safetensors __metadata__ and in NAME.json, to
# src/MnistCnn.Core/Inference/Pretrained/ (embedded in the package).
#
#   eng/pretrained.sh [--model best|case-study] [--check]
#     --model best (default)   LeNet with the best preset (TrainingRecipe.Best: seed 0, 11 epochs, augmentation, one-cycle
#                              Adam, label smoothing): lenet.safetensors
#     --model case-study       the case study's ConvNet (seed 0, 5 epochs, batch 64, lr 0.01): convnet.safetensors
#     --check                  train into artifacts/pretrained and fail unless the result equals the committed
#                              files byte for byte
#
# Same machine type and thread count give the same bytes (docs/training.md, "Determinism and seeds").
# It packs and restores MnistCnn.Core like ./build.sh train; run it under the package lock on shared machines.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

check=0 model=best
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=1 ;;
    --model) [ $# -ge 2 ] || die "--model needs best or case-study"; model=$2; shift ;;
    *) die "unknown argument '$1' (expected --model best|case-study, --check)" ;;
  esac
  shift
done

# Each model's settings, recorded in the model file.
case "$model" in
  best)
    name=lenet seed=0 epochs=11 batch=64 lr=0.002
    train_args=(--preset best --seed "$seed")
    recipe=(--setting "preset=best" --setting "shuffle=true" --setting "augmentation=shifts 2 px, rotations 10 degrees, scales 0.9-1.1"
            --setting "lr_schedule=one-cycle per batch, peak = learning_rate (PyTorch's OneCycleLR defaults, momentum not cycled)"
            --setting "adam_betas=0.9, 0.999" --setting "label_smoothing=0.1") ;;
  case-study)
    name=convnet seed=0 epochs=5 batch=64 lr=0.01
    train_args=(--seed "$seed" --epochs "$epochs" --batch-size "$batch" --lr "$lr")
    recipe=(--setting "shuffle=false") ;;
  *) die "--model needs best or case-study, not '$model'" ;;
esac

data=$(data_dir)
committed=src/MnistCnn.Core/Inference/Pretrained
work=artifacts/pretrained/$name
rm -rf "$work"

./build.sh train "${train_args[@]}" --output "$work/train"

out=$committed
[ "$check" = 1 ] && out=$work/model
torchsharp=$(central_version TorchSharp)
dotnet run --project eng/MnistCnn.Core.Pretrained -c Release -- \
  --trained "$work/train" --name "$name" --data "$data" --out "$out" \
  --setting "training_command=./build.sh train ${train_args[*]}" \
  --setting "seed=$seed" --setting "epochs=$epochs" --setting "batch_size=$batch" --setting "learning_rate=$lr" \
  "${recipe[@]}" --setting "torchsharp=$torchsharp" --setting "cpu=$(cpu_line)"

if [ "$check" = 1 ]; then
  for f in "$name.safetensors" "$name.json"; do
    if ! cmp "$out/$f" "$committed/$f"; then
      die "--check: the regenerated $f differs from $committed/$f"
    fi
  done
  say "pretrained --check: the regenerated model equals $committed/$name.safetensors byte for byte ($(sha256sum <"$out/$name.safetensors" | cut -d' ' -f1))"
fi
