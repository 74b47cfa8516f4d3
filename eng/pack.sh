#!/usr/bin/env bash
# Packs the library into the local feed artifacts/packages (MnistCnn.Core.<version>.nupkg and .snupkg) and
# drops NuGet's cached copy of that version, so the samples and the consumer check restore the package just
# built. Packing needs no torch, so it runs on the host. Arguments go to dotnet pack.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

pack() {
  local version
  version=$(package_version)
  [ -n "$version" ] || die "no <Version> in Directory.Build.props"
  rm -f "$repo"/artifacts/packages/MnistCnn.Core.*nupkg
  dotnet pack src/MnistCnn.Core -c Release -p:UseSharedCompilation=false -o "$repo/artifacts/packages" "$@"
  # NuGet never refreshes an extracted version: drop the cached copy of this version so the samples
  # and the consumer check restore the package just built, not an older build with the same number.
  rm -rf "$HOME/.nuget/packages/mnistcnn.core/$version"
  say "packed MnistCnn.Core $version into artifacts/packages"
}

pack "$@"
