#!/usr/bin/env bash
# The browser sample (samples/MnistCnn.Samples.Wasm): Blazor WebAssembly, the classifier running in the tab.
# Run by ./build.sh wasm and ./build.sh wasm-test after they have packed the library (the sample consumes the
# package). Nothing here runs torch: it all runs on the host.
#
#   eng/wasm.sh serve [--urls URL]     publish, then serve the files on 127.0.0.1 until Ctrl+C
#   eng/wasm.sh test [DOTNET TEST ARGS]  publish, then the headless Chromium tests; prints their figures
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

project=samples/MnistCnn.Samples.Wasm
host=eng/MnistCnn.StaticHost
tests=tests/MnistCnn.Samples.Wasm.Tests
out=artifacts/wasm
app=$out/app

# Publishes the app (Release: trimmed, with .br and .gz copies of every file) into artifacts/wasm/app. The
# trimmer's analysis warnings are in artifacts/wasm/publish.log; one that names MnistCnn fails the publish,
# since the library's classifier must survive trimming.
publish() {
  mkdir -p "$out"
  rm -rf "$app"
  local log=$out/publish.log status=0
  dotnet publish "$project" -c Release -o "$app" -nologo >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    cat "$log" >&2
    die "publishing $project failed (output above, and in $log)"
  fi
  # The member a warning is about follows its code: "warning IL2026: MnistCnn.Core.Training...".
  if grep -Eq 'warning IL[0-9]+: MnistCnn\.' "$log"; then
    grep -E 'warning IL[0-9]+: MnistCnn\.' "$log" | sort -u >&2
    die "trimming warns about MnistCnn (above): the library must be safe to trim"
  fi
  local files bytes
  files=$(find "$app/wwwroot" -type f ! -name '*.br' ! -name '*.gz' | wc -l)
  bytes=$(find "$app/wwwroot" -type f -name '*.br' -printf '%s\n' | awk '{ s += $1 } END { print s }')
  say "published $project into $app/wwwroot: $files files, $bytes bytes brotli-compressed" \
    "($(grep -c 'warning IL' "$log" || true) trim warnings, none in MnistCnn: $log)"
}

build_host() {
  dotnet build "$host" -c Release -v q -nologo >&2 || die "building $host failed (output above)"
}

# Serves the published files until interrupted; the host prints the address. It is exec'd, so stopping this
# script's process stops the server.
serve() {
  local urls=http://127.0.0.1:5001
  while [ $# -gt 0 ]; do
    case "$1" in
      --urls) [ $# -ge 2 ] || die "--urls needs a URL"; urls=$2; shift 2 ;;
      *) die "unknown argument '$1' (wasm takes --urls URL)" ;;
    esac
  done
  publish
  build_host
  say "open the address below; once the page has loaded it predicts with no server (Ctrl+C stops serving)"
  exec dotnet "$host/bin/Release/net10.0/MnistCnn.StaticHost.dll" "$app/wwwroot" --urls "$urls"
}

# The tests serve the published app themselves (eng/MnistCnn.StaticHost on a free loopback port, stopped at the
# end) and drive Debian's chromium; their figures and screenshot are in artifacts/wasm/results, printed here
# since dotnet test hides passing tests' output.
run_tests() {
  ensure_chromium
  publish
  rm -rf "$out/results"
  local status=0
  dotnet test "$tests" -c Release -nologo "$@" || status=$?
  for f in "$out"/results/*.txt; do
    [ -f "$f" ] && printf '== %s\n%s\n' "$f" "$(cat "$f")"
  done
  return "$status"
}

case "${1:-}" in
  serve) shift; serve "$@" ;;
  test) shift; run_tests "$@" ;;
  *) die "usage: eng/wasm.sh serve [--urls URL] | test [ARGS]" ;;
esac
