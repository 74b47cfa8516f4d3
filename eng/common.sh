# Shared by build.sh and the eng/ scripts (sourced, not run): the repository's location, messages,
# the dotnet environment without build servers, and the versions kept in the MSBuild files.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '==> %s\n' "$*" >&2; }
die() { printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# Environment variables are MSBuild properties too: UseSharedCompilation=false keeps the compiler server
# off for every dotnet command (exec'd `dotnet run` included), so none outlives the command.
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 MSBUILDDISABLENODEREUSE=1 \
  UseSharedCompilation=false
command -v dotnet >/dev/null 2>&1 || die "dotnet (the .NET 10 SDK) is not on PATH"
cd "$repo"

# The package version, kept in one place (Directory.Build.props).
package_version() {
  sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/Directory.Build.props" | head -n1
}

# The version of a package in Directory.Packages.props.
central_version() {
  sed -n "s:.*<PackageVersion Include=\"$1\" Version=\"\([^\"]*\)\".*:\1:p" "$repo/Directory.Packages.props" | head -n1
}

# The MNIST folder of this repository's verbs and tests.
data_dir() {
  echo "${MNISTCNN_DATA_DIR:-$repo/data/mnist}"
}

# A nuget.config in folder $1 naming this repository's local feed by absolute path, as a user's would; the
# machine's configured sources stay (no <clear/>).
local_feed_config() {
  cat >"$1/nuget.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="local" value="$repo/artifacts/packages" />
  </packageSources>
</configuration>
CONFIG
}

# The browser tests drive Debian's chromium (Playwright downloads no browser here): installed when missing and
# root, as on CI; else the command to install it is named. MNISTCNN_CHROMIUM names another browser.
ensure_chromium() {
  local browser=${MNISTCNN_CHROMIUM:-/usr/bin/chromium}
  [ -x "$browser" ] && return 0
  [ -z "${MNISTCNN_CHROMIUM:-}" ] || die "MNISTCNN_CHROMIUM=$browser is not an executable file"
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "the browser test needs Chromium at /usr/bin/chromium: install it (Debian/Ubuntu: sudo apt-get install chromium), or set MNISTCNN_CHROMIUM to a Chromium or Chrome executable"
  fi
  say "installing Debian's chromium package (for the browser test)"
  apt-get update -qq >&2 || die "apt-get update failed; cannot install chromium"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2 \
    || die "apt-get install chromium failed"
  [ -x "$browser" ] || die "the chromium package did not install /usr/bin/chromium"
}

# The CPU model and the vector ISA levels that decide which kernels run.
cpu_line() {
  local model flags isa=""
  model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
  flags=" $(sed -n 's/^flags[[:space:]]*: //p' /proc/cpuinfo | head -n1) "
  for f in avx2 fma avx512f avx512bw avx512_vnni avx512_bf16; do
    case "$flags" in *" $f "*) isa="$isa ${f^^}" ;; esac
  done
  echo "${model:-unknown}, ISA:${isa:- none of AVX2/AVX-512}"
}
