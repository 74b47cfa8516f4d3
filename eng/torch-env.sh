# Where torch can load (sourced by build.sh and the eng/ scripts; provides run_torch).
#
# TorchSharp 0.107.0's native library needs libstdc++ from GCC 13 or newer (GLIBCXX_3.4.32). Hosts that
# have it (Ubuntu 24.04+, Debian 13+, Fedora 39+) run commands directly. Older hosts (Debian 12) run them
# inside a cached Debian 13 root, created once with debootstrap and entered through a private mount
# namespace, so that no mount or process outlives the command. Packages the root needs are installed
# with root_apt_install, so a fresh machine gets them too.

cache_dir=${MNISTCNN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mnistcnn}
root_dir="$cache_dir/debian13-root"
root_packages="libicu76,libssl3t64,ca-certificates,zlib1g"

# True when the host's libstdc++ has the symbol version libLibTorchSharp.so needs.
host_can_run_torch() {
  [ "$(uname -s)" = Linux ] || return 0
  local lib
  lib=$( (ldconfig -p 2>/dev/null || true) | awk '/libstdc\+\+\.so\.6 .*x86-64|libstdc\+\+\.so\.6 \(libc6,AArch64/ {print $NF; exit}')
  [ -n "$lib" ] || lib=$(ls /usr/lib/*/libstdc++.so.6 /usr/lib64/libstdc++.so.6 2>/dev/null | head -n1 || true)
  [ -n "$lib" ] && grep -aq 'GLIBCXX_3\.4\.32' "$lib"
}

needs_root() {
  case "${MNISTCNN_USE_ROOT:-}" in
    1) return 0 ;;
    0) return 1 ;;
  esac
  ! host_can_run_torch
}

# The Debian mirror configured for the host's apt (deb822 .sources first, then one-line .list files).
debian_mirror() {
  if [ -n "${MNISTCNN_DEBIAN_MIRROR:-}" ]; then echo "$MNISTCNN_DEBIAN_MIRROR"; return; fi
  local uri
  uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -v -- '-security' | grep -E '/debian/?$' | head -n1 || true)
  if [ -z "$uri" ]; then
    uri=$(grep -hE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
          | sed -E 's/\[[^]]*\]//' | awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
  fi
  [ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list*; set MNISTCNN_DEBIAN_MIRROR to a Debian mirror URI"
  echo "$uri"
}

ensure_root() {
  [ -x "$root_dir/bin/bash" ] && return 0
  [ "$(id -u)" -eq 0 ] || die "not root: cannot create the Debian 13 root this host needs (its libstdc++ lacks GLIBCXX_3.4.32); run as root, or on a host with GCC 13+ libstdc++ (Debian 13+, Ubuntu 24.04+, Fedora 39+)"
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap"
    command -v apt-get >/dev/null 2>&1 || die "debootstrap is missing and apt-get is not available to install it"
    apt-get update -qq >&2 || die "apt-get update failed; cannot install debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2 || die "apt-get install debootstrap failed"
  fi
  local mirror tmp
  mirror=$(debian_mirror)
  mkdir -p "$cache_dir"
  # Build under a temporary name; only a complete root is renamed into place.
  rm -rf "$cache_dir"/debian13-root.tmp.*
  tmp=$(mktemp -d "$cache_dir/debian13-root.tmp.XXXXXX")
  say "creating the Debian 13 root in $root_dir (once; about a minute)"
  if ! debootstrap --variant=minbase --include="$root_packages" trixie "$tmp" "$mirror" >"$tmp.log" 2>&1; then
    tail -n 20 "$tmp.log" >&2
    rm -rf "$tmp"
    die "debootstrap of Debian 13 from $mirror failed (log above); check the mirror or set MNISTCNN_DEBIAN_MIRROR"
  fi
  rm -f "$tmp.log"
  mv "$tmp" "$root_dir"
}

# Installs Debian packages into the root (once per package set).
root_apt_install() {
  local marker="$root_dir/var/lib/mnistcnn-$(echo "$*" | tr ' ' '_')"
  [ -e "$marker" ] && return 0
  say "installing into the Debian 13 root: $*"
  # apt's download sandbox user (_apt) cannot write the root's package cache; the chroot is the
  # isolation here, so apt downloads as root instead of warning on every file.
  in_root apt-get -o APT::Sandbox::User=root update -qq
  in_root env DEBIAN_FRONTEND=noninteractive apt-get -o APT::Sandbox::User=root install -y -qq \
    --no-install-recommends "$@"
  touch "$marker"
}

# Runs a command inside the root, with dotnet, the NuGet folder and the repository bind-mounted at
# the same paths as on the host. Everything mounted here disappears with the private namespace.
in_root() {
  local dotnet_dir nuget_dir
  dotnet_dir=$(dirname "$(readlink -f "$(command -v dotnet)")")
  nuget_dir="$HOME/.nuget"
  mkdir -p "$nuget_dir"
  cp -L /etc/resolv.conf "$root_dir/etc/resolv.conf" 2>/dev/null || true
  unshare --mount --propagation private -- bash -c '
    set -e
    root=$1 dotnet_dir=$2 nuget_dir=$3 repo=$4 cwd=$5; shift 5
    mount -t tmpfs tmpfs "$root/tmp"
    for d in "$dotnet_dir" "$nuget_dir" "$repo"; do
      mkdir -p "$root$d"; mount --bind "$d" "$root$d"
    done
    # The root trusts the certificate authorities the host trusts (a host may add its own).
    if [ -f /etc/ssl/certs/ca-certificates.crt ] && [ -f "$root/etc/ssl/certs/ca-certificates.crt" ]; then
      mount --bind /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
    fi
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    exec chroot "$root" /usr/bin/env -i HOME="$HOME" TERM="${TERM:-dumb}" LANG=C.UTF-8 \
      PATH="$dotnet_dir:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" DOTNET_ROOT="$dotnet_dir" \
      CI="${CI:-}" MNISTCNN_DATA_DIR="${MNISTCNN_DATA_DIR:-}" \
      DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 UseSharedCompilation=false \
      MSBUILDDISABLENODEREUSE=1 NUGET_CERT_REVOCATION_MODE=offline DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
      bash -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "$@"
  ' _ "$root_dir" "$dotnet_dir" "$nuget_dir" "$repo" "$PWD" "$@"
}

# Makes python3 with torch and torchvision available where torch runs. In the Debian 13 root they come
# from Debian's own packages (installed once); a host that runs directly must already have them.
ensure_python_torch() {
  if needs_root; then
    ensure_root
    root_apt_install python3-torch python3-torchvision
    # The ONNX project's checker and reference evaluator, for tests/peer/onnx_check.py.
    root_apt_install python3-onnx
  elif ! python3 -c 'import torch, torchvision' >/dev/null 2>&1; then
    die "the PyTorch peer needs python3 with torch and torchvision; install them (Debian 13+/Ubuntu 24.04+: apt-get install python3-torch python3-torchvision; elsewhere: pip install torch torchvision), or set MNISTCNN_USE_ROOT=1 to use the Debian 13 root"
  fi
}

# The training sample's plot needs a TrueType font; the minimal Debian 13 root has none.
ensure_plot_font() {
  if needs_root; then
    ensure_root
    root_apt_install fonts-dejavu-core
  fi
}

# Runs a command where torch can load: directly, or in the Debian 13 root.
run_torch() {
  if needs_root; then
    ensure_root
    in_root "$@"
  else
    "$@"
  fi
}
