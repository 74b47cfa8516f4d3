#!/usr/bin/env bash
# Consumer check (./build.sh consumer-check, run by CI after pack and data): the package as a user meets it.
# Copies samples/MnistCnn.Samples.QuickStart into artifacts/consumer-check, outside the repository's build
# settings, with its own central package versions (MnistCnn.Core from artifacts/packages, TorchSharp-cpu) as a
# user's repository has them, and runs it: 1 epoch must reach 80% test accuracy. Then the first-run diagnostics:
# the same app without its backend package, and (on a host whose libstdc++ is older than GCC 13's) the app run
# directly on the host, must each stop with one TorchBackendException naming the cause and the fix.
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
local_feed_config "$dir"

new_app QuickStart
(cd "$dir/QuickStart" && run_torch dotnet run -c Release -- "$data" 1) | tee "$dir/QuickStart.out" \
  || die "consumer-check: the QuickStart app failed (output above)"
# One epoch of the case study reaches about 89%; 80% shows it learned (chance is 10%).
accuracy=$(sed -n 's/^Epoch: 1 .* Accuracy: \([0-9.]*\)$/\1/p' "$dir/QuickStart.out")
awk -v a="${accuracy:-0}" 'BEGIN { exit !(a > 80) }' \
  || die "consumer-check: 1 epoch reached ${accuracy:-no}% test accuracy, expected more than 80%"
say "consumer-check: a new app restored MnistCnn.Core $version from artifacts/packages and reached $accuracy% after 1 epoch"

# Runs an app expected to fail at its first torch call; $1 names the case, the rest is the command.
expect_backend_error() {
  local name=$1 status=0
  shift
  "$@" >"$dir/$name.out" 2>&1 || status=$?
  [ "$status" -ne 0 ] || die "consumer-check: $name: the app succeeded, expected a TorchBackendException"
  if grep -q -e 'DllNotFoundException' -e 'TypeInitializationException' "$dir/$name.out"; then
    cat "$dir/$name.out" >&2
    die "consumer-check: $name: TorchSharp's own load error reached the app (output above)"
  fi
}

# Without a backend package: the message names the packages to add.
new_app NoBackend
run_torch bash -c 'cd "$1" && dotnet remove package TorchSharp-cpu >/dev/null && dotnet build -c Release -v q -nologo >/dev/null' _ "$dir/NoBackend" \
  || die "consumer-check: NoBackend: the app without a backend did not build"
expect_backend_error NoBackend run_torch bash -c 'cd "$1" && dotnet bin/Release/net10.0/MnistCnn.Samples.QuickStart.dll "$2" 1' _ "$dir/NoBackend" "$data"
grep -q "Unhandled exception. MnistCnn.Core.Runtime.TorchBackendException: libtorch could not be loaded: the application references no TorchSharp native backend" "$dir/NoBackend.out" \
  && grep -q "dotnet add package TorchSharp-cpu --version $torch_version" "$dir/NoBackend.out" \
  && grep -q "IsAvailable = False, Backend = none" "$dir/NoBackend.out" \
  || { cat "$dir/NoBackend.out" >&2; die "consumer-check: NoBackend: no TorchBackendException naming the backend packages (output above)"; }
say "consumer-check: without a backend package: $(grep -o 'TorchBackendException: .*' "$dir/NoBackend.out" | cut -c1-160)..."

# On a host whose libstdc++ lacks GLIBCXX_3.4.32 (Debian 12), the app built above, run there directly.
if host_can_run_torch; then
  say "consumer-check: this host's libstdc++ has GLIBCXX_3.4.32, so the old-libstdc++ case cannot be shown here"
else
  expect_backend_error OldLibStdCxx bash -c 'cd "$1" && dotnet bin/Release/net10.0/MnistCnn.Samples.QuickStart.dll "$2" 1' _ "$dir/QuickStart" "$data"
  grep -q "TorchBackendException: libtorch could not be loaded: this system's C++ runtime (libstdc++) is older than GCC 13's" "$dir/OldLibStdCxx.out" \
    && grep -q "Debian 13+" "$dir/OldLibStdCxx.out" && grep -q "GLIBCXX_3.4.32' not found" "$dir/OldLibStdCxx.out" \
    || { cat "$dir/OldLibStdCxx.out" >&2; die "consumer-check: OldLibStdCxx: no TorchBackendException naming libstdc++ (output above)"; }
  say "consumer-check: on this host's old libstdc++: $(grep -o 'TorchBackendException: .*' "$dir/OldLibStdCxx.out" | cut -c1-160)..."
fi
