#!/usr/bin/env bash
# Builds the CUDA check bundle in artifacts/gpu-bundle/ (docs/performance.md#cuda-on-a-real-gpu):
#   mnistcnn-gpu-check-linux-x64.tar.xz  eng/MnistCnn.Core.GpuCheck published self-contained for linux-x64, with the
#                                        managed TorchSharp and its libLibTorchSharp.so but no libtorch (at most 30 MB)
#   gpu-check.sh                         the script that runs it (eng/gpu-check.sh) on PyTorch's CUDA libraries
#   peer/                                PyTorch's same recipe for the best preset (tests/peer/best.py and its imports)
#   data/<folder>/                       the data set's four files, xz-compressed, and their SHA-256s: MNIST (data/mnist)
#                                        or, with --dataset fashion, Fashion-MNIST (data/fashion-mnist)
#   BUNDLE.txt                           the commit it was built from, the date and the sizes
# Copy the folder to a Linux machine with an NVIDIA GPU and PyTorch >= 2.10 for CUDA, and run
# `bash gpu-check.sh`. Needs no GPU here; run by ./build.sh gpu-bundle [--dataset mnist|fashion], which has put the
# data set in its folder first. The whole bundle stays under 64 MiB with either data set.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

max_archive_bytes=$((30 * 1000 * 1000))
bundle=$repo/artifacts/gpu-bundle
case "${1:-}${2:-}" in
  ""|--datasetmnist) data=$(data_dir); folder=mnist ;;
  --datasetfashion) data=$repo/data/fashion-mnist; folder=fashion-mnist ;;
  *) die "usage: eng/gpu-bundle.sh [--dataset mnist|fashion]" ;;
esac

rm -rf "$bundle.partial"
mkdir -p "$bundle.partial/peer" "$bundle.partial/data/$folder"
publish=$(mktemp -d)
trap 'rm -rf "$publish" "$bundle.partial"' EXIT

say "publishing eng/MnistCnn.Core.GpuCheck self-contained for linux-x64 (no TorchSharp backend: no libtorch)"
dotnet publish "$repo/eng/MnistCnn.Core.GpuCheck" -c Release \
  -p:UseSharedCompilation=false -o "$publish/app" -v q
[ -f "$publish/app/libLibTorchSharp.so" ] || die "the published app lacks TorchSharp's libLibTorchSharp.so"
if ls "$publish/app" | grep -q '^libtorch'; then
  die "the published app holds libtorch ($(ls "$publish/app" | grep '^libtorch' | tr '\n' ' ')): it must bring none"
fi
say "compressing the app (xz; a minute or more)"
tar cf - -C "$publish" app | xz -T0 -6 >"$bundle.partial/mnistcnn-gpu-check-linux-x64.tar.xz"
archive_bytes=$(stat -c %s "$bundle.partial/mnistcnn-gpu-check-linux-x64.tar.xz")
[ "$archive_bytes" -le "$max_archive_bytes" ] \
  || die "the app's archive has $archive_bytes bytes, more than the $max_archive_bytes allowed"

cp "$repo/eng/gpu-check.sh" "$bundle.partial/gpu-check.sh"
cp "$repo/tests/peer/best.py" "$repo/tests/peer/lenet.py" "$repo/tests/peer/convnet.py" "$bundle.partial/peer/"
files="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"
for name in $files; do
  xz -9 -T0 -c "$data/$name" >"$bundle.partial/data/$folder/$name.xz"
done
(cd "$data" && sha256sum $files) >"$bundle.partial/data/$folder/SHA256SUMS"

commit=$(git -C "$repo" rev-parse HEAD)
git -C "$repo" diff --quiet HEAD -- src eng tests/peer || commit="$commit with uncommitted changes"
{
  echo "MnistCnn.Core GPU check, built from commit $commit on $(date -u +%Y-%m-%d), data set $folder"
  echo "app archive: $archive_bytes bytes (self-contained linux-x64, managed TorchSharp $(central_version TorchSharp-cpu), no libtorch)"
  echo "whole bundle: $(du -sb "$bundle.partial" | cut -f1) bytes"
} >"$bundle.partial/BUNDLE.txt"
rm -rf "$bundle"
mv "$bundle.partial" "$bundle"
cat "$bundle/BUNDLE.txt" >&2
say "bundle in $bundle: copy it to a machine with an NVIDIA GPU and run 'bash gpu-check.sh' there"
