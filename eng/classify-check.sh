#!/usr/bin/env bash
# The no-backend consumer check: a new console app outside the repository's build settings adds
# MnistCnn.Core from artifacts/packages and NO TorchSharp backend, takes its code from
# samples/MnistCnn.Samples.Classify, and runs on this host directly (never in the Debian 13 root): it
# classifies the 10,000 MNIST test images with DigitClassifier.Pretrained() and must reach exactly the test
# accuracy the model records and docs/package-readme.md states. Expects the package packed and the data
# present (./build.sh classify-check does both first).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ $# -eq 0 ] || die "takes no arguments"
data=$(cd "$(data_dir)" && pwd)
dir=$repo/artifacts/classify-check
version=$(package_version)
stated=$(sed -n 's/.*pretrained model.s test accuracy: \*\*\([0-9.]*\)%\*\*.*/\1/p' docs/package-readme.md | head -n1)
[ -n "$stated" ] || die "classify-check: docs/package-readme.md states no pretrained test accuracy"

rm -rf "$dir"
mkdir -p "$dir"
# Empty Directory.* files stop MSBuild's upward search: nothing of the repository's build applies.
for f in Directory.Build.props Directory.Build.targets Directory.Packages.props; do
  echo '<Project />' >"$dir/$f"
done
local_feed_config "$dir"

cd "$dir"
dotnet new console -o Classify --no-restore >/dev/null
cd Classify
dotnet add package MnistCnn.Core --version "$version" >/dev/null
cp "$repo/samples/MnistCnn.Samples.Classify/Program.cs" Program.cs
dotnet build -c Release -v q -nologo >/dev/null

# The app's dependency graph has the managed TorchSharp package (MnistCnn.Core's dependency) but no backend.
if grep -qiE '"(TorchSharp-cpu|TorchSharp-cuda-[a-z]+|libtorch-[a-z0-9-]+)/' obj/project.assets.json; then
  grep -oiE '"(TorchSharp-cpu|TorchSharp-cuda-[a-z]+|libtorch-[a-z0-9-]+)/[^"]*"' obj/project.assets.json | sort -u >&2
  die "classify-check: the app's dependencies include a TorchSharp backend (above)"
fi
say "classify-check: MnistCnn.Core $version restored without any TorchSharp backend ($(grep -oE '"TorchSharp/[^"]*"' obj/project.assets.json | head -n1 | tr -d '"') managed only)"

# On the host itself, never through run_torch: on hosts whose libstdc++ is too old for libtorch this is the point.
dotnet run -c Release --no-build -- "$data" --expect "$stated" \
  || die "classify-check: the app failed or missed the stated $stated% (output above)"
say "classify-check: the pretrained model classified the MNIST test set on this host at the stated $stated%"
