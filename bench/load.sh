#!/usr/bin/env bash
# Side-by-side load test: the same upstream page through plain reverse_proxy
# and through consentgate (no consent cookie, so every tracker is blocked),
# in one Caddy process, one after the other, with wrk over HTTP/1.1.
#
#   bash bench/load.sh                 # 20 s per run, 32 connections
#   DURATION=60s CONNS=64 bash bench/load.sh
#
# Prints requests/s and p99 latency per page and setup, and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-20s}
CONNS=${CONNS:-32}
CORPUS=${CORPUS:-../shared/corpus}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/pages"
cp "$(go env GOROOT)/doc/go_spec.html" "$work/pages/go_spec.html"
cp "$CORPUS/readability__breitbart.html" "$work/pages/tracker_heavy.html"

go build -o "$work/consentgate" ./cmd/consentgate
cat > "$work/Caddyfile" <<CADDY
{
	admin off
	auto_https off
	persist_config off
}
:9101 {
	root * $work/pages
	file_server
}
:9102 {
	reverse_proxy 127.0.0.1:9101
}
:9103 {
	consent
	reverse_proxy 127.0.0.1:9101
}
CADDY
XDG_DATA_HOME=$work/data "$work/consentgate" run --config "$work/Caddyfile" >"$work/caddy.log" 2>&1 &
for _ in $(seq 50); do curl -fs -o /dev/null http://127.0.0.1:9103/go_spec.html && break; sleep 0.2; done

run() { # port page → "rps p99ms"
	wrk -t1 -c"$CONNS" -d"$DURATION" --latency -H 'Accept: text/html' "http://127.0.0.1:$1/$2" |
		awk '/Requests\/sec/ {rps=$2} /^ +99%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; p99=v} END {printf "%.0f %.2f", rps, p99}'
}

printf '%-18s %12s %10s %12s %10s %8s\n' page "proxy req/s" "p99 ms" "consent r/s" "p99 ms" ratio
for page in go_spec.html tracker_heavy.html; do
	curl -fs -o /dev/null "http://127.0.0.1:9102/$page"  # warm up
	read -r prps pp99 <<<"$(run 9102 "$page")"
	read -r crps cp99 <<<"$(run 9103 "$page")"
	printf '%-18s %12s %10s %12s %10s %8.2f\n' "$page" "$prps" "$pp99" "$crps" "$cp99" "$(echo "$crps / $prps" | bc -l)"
done
