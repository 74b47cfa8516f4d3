#!/usr/bin/env bash
# Consumer check (./build.sh consumer-check, run by CI after pack and data): the package as a user meets it.
# Copies samples/MnistCnn.Samples.QuickStart into artifacts/consumer-check, outside the repository's build
# settings, with its own central package versions (MnistCnn.Core from artifacts/packages, TorchSharp-cpu) as a
# user's repository has them, and runs it: 1 epoch must reach 80% test accuracy.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$repo/eng/torch-env.sh"

dir=$repo/artifacts/consumer-check
sample=$repo/samples/MnistCnn.Samples.QuickStart
version=$(package_version)
torch_version=$(central_version TorchSharp-cpu)
data=$(data_dir)

# A copy of the sample's project in $dir/$1.
new_app() {
  mkdir -p "$dir/$1"
  cp "$sample"/*.csproj "$sample"/*.cs "$dir/$1/"
}

[ $# -eq 0 ] || die "takes no arguments"
rm -rf "$dir"
mkdir -p "$dir"
# These files stop MSBuild's upward search, so nothing of the repository's build applies (its central
# package versions, analyzers, warnings as errors): the app gets only the two versions a user would write.
for f in Directory.Build.props Directory.Build.targets; do
  echo '<Project />' >"$dir/$f"
done
cat >"$dir/Directory.Packages.props" <<PACKAGES
<Project>
  <PropertyGroup>
    <ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <PackageVersion Include="MnistCnn.Core" Version="$version" />
    <PackageVersion Include="TorchSharp-cpu" Version="$torch_version" />
  </ItemGroup>
</Project>
PACKAGES
# The local feed by absolute path, as a user's nuget.config would name it; the machine's sources stay.
cat >"$dir/nuget.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="local" value="$repo/artifacts/packages" />
  </packageSources>
</configuration>
CONFIG

new_app QuickStart
(cd "$dir/QuickStart" && run_torch dotnet run -c Release -- "$data" 1) | tee "$dir/QuickStart.out" \
  || die "consumer-check: the QuickStart app failed (output above)"
# One epoch of the case study reaches about 89%; 80% shows it learned (chance is 10%).
accuracy=$(sed -n 's/^Epoch: 1 .* Accuracy: \([0-9.]*\)$/\1/p' "$dir/QuickStart.out")
awk -v a="${accuracy:-0}" 'BEGIN { exit !(a > 80) }' \
  || die "consumer-check: 1 epoch reached ${accuracy:-no}% test accuracy, expected more than 80%"
say "consumer-check: a new app restored MnistCnn.Core $version from artifacts/packages and reached $accuracy% after 1 epoch"
