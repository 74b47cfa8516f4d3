#!/usr/bin/env bash
# The web sample (samples/MnistCnn.Samples.Web) and its tests. Run by ./build.sh web and ./build.sh web-test,
# after they have packed the library (the sample consumes the package). Nothing here runs torch: the sample
# predicts with the library's managed classifier, so it builds and runs on the host, no Debian 13 root.
#
#   eng/web.sh serve [--urls URL] [--model FILE] [--Limits:MaxBodyBytes N ...]
#   eng/web.sh test [DOTNET TEST ARGS]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

project=samples/MnistCnn.Samples.Web
tests=tests/MnistCnn.Samples.Web.Tests

# Serves the page and the API until interrupted. The app is exec'd (not `dotnet run`), so stopping this
# script's process stops the server, and it runs from the caller's folder, so a relative --model works.
serve() {
  dotnet build "$project" -c Release -v q -nologo >&2 \
    || die "building $project failed (output above)"
  cd "${MNISTCNN_CALLER_DIR:-$repo}"
  exec dotnet "$repo/$project/bin/Release/net10.0/MnistCnn.Samples.Web.dll" "$@"
}

# The browser test drives Debian's chromium (Playwright downloads no browser here). Installed when missing
# and root, as on CI; else the command to install it is named.
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

# The API tests (real Kestrel on a loopback port), the browser tests and the load test (the built app as its
# own process; about 90 s); the figures they measured (load.txt: requests, status codes, p50/p99 latency,
# server memory) and the screenshots are in artifacts/web, the figures printed here since dotnet test hides
# passing tests' output.
run_tests() {
  ensure_chromium
  rm -rf artifacts/web
  local status=0
  dotnet test "$tests" -c Release -nologo "$@" || status=$?
  for f in artifacts/web/*.txt; do
    [ -f "$f" ] && printf '== %s\n%s\n' "$f" "$(cat "$f")"
  done
  return "$status"
}

case "${1:-}" in
  serve) shift; serve "$@" ;;
  test) shift; run_tests "$@" ;;
  *) die "usage: eng/web.sh serve [ARGS] | test [ARGS]" ;;
esac
