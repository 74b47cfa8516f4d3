#!/usr/bin/env bash
# The web sample (samples/MnistCnn.Samples.Web) and its tests. Run by ./build.sh web and ./build.sh web-test,
# after they have packed the library (the sample consumes the package). Nothing here runs torch: the sample
# predicts with the library's managed classifier, so it builds and runs on the host, no Debian 13 root.
#
#   eng/web.sh serve [--urls URL] [--model FILE] [--Limits:MaxBodyBytes N ...]
#   eng/web.sh test [DOTNET TEST ARGS]
#   eng/web.sh bench [SECONDS] [--model FILE]
#                                  throughput and latency with wrk on loopback (artifacts/web/bench.txt)
#   eng/web.sh soak [MINUTES]      a long run at 64 connections: errors and memory (artifacts/web/soak.txt)
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

# The API tests (real Kestrel on a loopback port), the browser tests, the load test and the reload-under-load
# test (the built app as its own process; about 90 s and 95 s); the figures they measured (load.txt: requests,
# status codes, p50/p99 latency, server memory; reload.txt: reloads, answers checked, memory) and the
# screenshots are in artifacts/web, the figures printed here since dotnet test hides passing tests' output.
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

# --- bench and soak: the built app in the background, wrk against it on loopback -------------------------

# The per-client rate limit no loopback load reaches (all requests come from one address): the limiter's
# cost is in the figures, its refusals are not.
no_rate_limit=(--Service:RatePerSecond 1000000 --Service:RateBurst 1000000)
inputs=$repo/artifacts/web/inputs
server_pid=

ensure_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "wrk is needed on the PATH: install it (Debian/Ubuntu: sudo apt-get install wrk)"
  fi
  say "installing Debian's wrk package"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >&2 || die "apt-get install wrk failed"
}

prepare() {
  ensure_wrk
  dotnet build "$project" -c Release -v q -nologo >&2 || die "building $project failed (output above)"
  local images=${MNISTCNN_DATA_DIR:-$repo/data/mnist}/t10k-images-idx3-ubyte
  [ -f "$images" ] || die "$images is missing: run ./build.sh data"
  python3 "$repo/eng/web/inputs.py" "$images" "$inputs"
}

# Starts the built app on a free loopback port with the settings given; sets server_pid and server_url.
start_server() {
  local log=$1
  shift
  dotnet "$repo/$project/bin/Release/net10.0/MnistCnn.Samples.Web.dll" --urls http://127.0.0.1:0 \
    --Logging:LogLevel:Default Warning --Logging:LogLevel:Microsoft.Hosting.Lifetime Information \
    --Logging:Console:ColorBehavior Disabled "$@" >"$log" 2>&1 &
  server_pid=$!
  trap stop_server EXIT
  local _
  for _ in $(seq 600); do
    server_url=$(sed -n 's/.*Now listening on: \(http:[^ ]*\).*/\1/p' "$log" | head -1)
    [ -n "$server_url" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || die "the web app exited: $(cat "$log")"
    sleep 0.1
  done
  die "the web app did not listen within a minute: $(cat "$log")"
}

stop_server() {
  [ -n "$server_pid" ] || return 0
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

status_mib() {
  awk -v field="$1:" '$1 == field { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"
}

load_average() {
  cut -d' ' -f1-3 /proc/loadavg
}

# Runs wrk; prints "requests/s p50_ms p99_ms requests non2xx socket_errors". Bodies (WEB_BODIES, see
# eng/web/wrk-post.lua) when given, else GET of the path.
run_wrk() {
  local connections=$1 duration=$2 path=$3 bodies=${4:-}
  local output
  if [ -n "$bodies" ]; then
    output=$(WEB_BODIES=$bodies wrk -t2 -c"$connections" -d"$duration" --timeout 10s --latency -s "$repo/eng/web/wrk-post.lua" "$server_url")
  else
    output=$(wrk -t2 -c"$connections" -d"$duration" --timeout 10s --latency "$server_url$path")
  fi
  printf '%s\n' "$output" >>"$repo/artifacts/web/wrk.log"
  awk '
    function ms(value) {
      if (value ~ /us$/) return value / 1000
      if (value ~ /ms$/) return value + 0
      if (value ~ /s$/) return value * 1000
      return value
    }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    $1 == "Requests/sec:" { rate = $2 }
    /requests in/ { requests = $1 }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { gsub(",", ""); errors = $4 + $6 + $8 + $10 }
    END { printf "%s %.2f %.2f %s %d %d\n", rate, p50, p99, requests, non2xx, errors }
  ' <<<"$output"
}

# Throughput and latency: /healthz (the HTTP stack alone, the peer in the same run), single PNG digits at 32
# connections, batches of 1024 MNIST rows at 8 connections.
bench() {
  local seconds=15 model_args=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --model)
        [ $# -ge 2 ] || die "--model needs a file"
        local file=$2
        [[ "$file" = /* ]] || file="${MNISTCNN_CALLER_DIR:-$repo}/$file"
        [ -f "$file" ] || die "--model: no such file: $file"
        model_args=(--model "$file")
        shift ;;
      *)
        [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] || die "bench takes a duration in seconds and --model FILE (got '$1')"
        seconds=$1 ;;
    esac
    shift
  done
  prepare
  mkdir -p artifacts/web
  : >artifacts/web/wrk.log
  start_server artifacts/web/bench-server.log "${no_rate_limit[@]}" "${model_args[@]}"
  local model
  model=$(curl -s "$server_url/readyz" | python3 -c 'import json, sys
d = json.load(sys.stdin); m = d.get("model") or d
print("%s (%s, SHA-256 %s)" % (m.get("architecture"), m.get("name"), str(m.get("sha256"))[:12]))' 2>/dev/null || echo unknown)
  local load_before predict="/api/predict|image/png|$inputs/digit.png" batch="/api/predict/batch|application/octet-stream|$inputs/rows-1024.bin"
  load_before=$(load_average)
  say "warming up (5 s), then ${seconds} s each: /healthz, /api/predict, /api/predict/batch"
  run_wrk 32 5s / "$predict" >/dev/null
  local health single batches
  read -r -a health <<<"$(run_wrk 32 "${seconds}s" /healthz)"
  read -r -a single <<<"$(run_wrk 32 "${seconds}s" / "$predict")"
  read -r -a batches <<<"$(run_wrk 8 "${seconds}s" / "$batch")"
  local rss
  rss=$(status_mib VmHWM)
  stop_server
  {
    echo "web bench: model $model; wrk -t2 on loopback, ${seconds} s per row after a 5 s warm-up; CPU $(cpu_line), $(nproc) cores; load average $load_before before, $(load_average) after"
    printf '| %-38s | %12s | %10s | %10s | %9s | %13s |\n' run requests/s "p50 ms" "p99 ms" "non-2xx" "socket errors"
    printf '| %-38s | %12s | %10s | %10s | %9s | %13s |\n' --- --- --- --- --- ---
    printf '| %-38s | %12s | %10s | %10s | %9s | %13s |\n' "GET /healthz, 32 connections (peer)" "${health[0]}" "${health[1]}" "${health[2]}" "${health[4]}" "${health[5]}"
    printf '| %-38s | %12s | %10s | %10s | %9s | %13s |\n' "POST /api/predict PNG, 32 connections" "${single[0]}" "${single[1]}" "${single[2]}" "${single[4]}" "${single[5]}"
    printf '| %-38s | %12s | %10s | %10s | %9s | %13s |\n' "POST batch of 1024 rows, 8 connections" "${batches[0]}" "${batches[1]}" "${batches[2]}" "${batches[4]}" "${batches[5]}"
    awk -v h="${health[0]}" -v s="${single[0]}" -v b="${batches[0]}" 'BEGIN {
      printf "single images: %.0f requests/s, %.2f of /healthz in the same run; batches: %.0f images/s (%.1f x the single-image rate)\n", s, s / h, b * 1024, b * 1024 / s }'
    echo "server peak memory (VmHWM): $rss MiB"
  } | tee artifacts/web/bench.txt
  local errors=$((health[4] + health[5] + single[4] + single[5] + batches[4] + batches[5]))
  [ "$errors" -eq 0 ] || die "$errors requests failed (non-2xx or socket errors): see artifacts/web/wrk.log"
}

# A long run: 64 connections sending single PNG digits and batches of 64 rows (9 to 1) for MINUTES after a
# one-minute warm-up; resident memory sampled every 30 s. Fails on any error or more than 20 MiB of growth.
soak() {
  local minutes=${1:-10}
  [[ "$minutes" =~ ^[0-9]+$ ]] && [ "$minutes" -ge 1 ] || die "soak takes a duration in minutes (got '$minutes')"
  prepare
  mkdir -p artifacts/web
  : >artifacts/web/wrk.log
  start_server artifacts/web/soak-server.log "${no_rate_limit[@]}"
  local mix="" i
  for i in $(seq 9); do mix+="/api/predict|image/png|$inputs/digit.png;"; done
  mix+="/api/predict/batch|application/octet-stream|$inputs/rows-64.bin"
  local load_before
  load_before=$(load_average)
  say "warming up for a minute at 64 connections, then $minutes minutes"
  run_wrk 64 60s / "$mix" >/dev/null
  local rss_start samples="" result_file
  rss_start=$(status_mib VmRSS)
  result_file=$(mktemp)
  run_wrk 64 "${minutes}m" / "$mix" >"$result_file" &
  local wrk_pid=$! elapsed=0
  while kill -0 "$wrk_pid" 2>/dev/null; do
    sleep 30
    elapsed=$((elapsed + 30))
    samples+="$(status_mib VmRSS) MiB at ${elapsed} s, "
  done
  wait "$wrk_pid" || die "wrk failed"
  local result rss_end peak
  read -r -a result <"$result_file"
  rm -f "$result_file"
  rss_end=$(status_mib VmRSS)
  peak=$(status_mib VmHWM)
  local errors_in_log
  errors_in_log=$(grep -c -E '^(fail|crit):' artifacts/web/soak-server.log || true)
  stop_server
  local growth
  growth=$(awk -v a="$rss_start" -v b="$rss_end" 'BEGIN { printf "%.1f", b - a }')
  {
    echo "web soak: $minutes minutes at 64 connections (9 single PNG digits to 1 batch of 64 rows) after a 1-minute warm-up; CPU $(cpu_line), $(nproc) cores; load average $load_before before, $(load_average) after"
    echo "requests: ${result[3]} (${result[0]}/s), p50 ${result[1]} ms, p99 ${result[2]} ms; non-2xx: ${result[4]}; socket errors: ${result[5]}; error lines in the server log: $errors_in_log"
    echo "server memory (VmRSS): $rss_start MiB after the warm-up; ${samples}$rss_end MiB at the end: growth $growth MiB (bound 20 MiB); peak (VmHWM) $peak MiB"
  } | tee artifacts/web/soak.txt
  [ "$((result[4] + result[5] + errors_in_log))" -eq 0 ] || die "the soak had errors: see artifacts/web/wrk.log and artifacts/web/soak-server.log"
  awk -v g="$growth" 'BEGIN { exit !(g <= 20) }' || die "memory grew by $growth MiB after the warm-up (bound 20 MiB)"
}

case "${1:-}" in
  serve) shift; serve "$@" ;;
  test) shift; run_tests "$@" ;;
  bench) shift; bench "$@" ;;
  soak) shift; soak "$@" ;;
  *) die "usage: eng/web.sh serve [ARGS] | test [ARGS] | bench [SECONDS] [--model FILE] | soak [MINUTES]" ;;
esac
