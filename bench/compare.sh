#!/usr/bin/env bash
# Side-by-side load test of two consentgate builds, so that a change can be
# judged on a noisy machine. Each build runs load.sh's setup in its own
# process (file_server upstream, plain reverse_proxy, consent +
# reverse_proxy), the old one on ports 92xx, the new one on 91xx; each round
# measures all four, in a rotating order, and prints each build's ratio to
# its own plain proxy in that round: requests/s, p99 latency, and the
# server's CPU time per request (utime+stime of its process, which serves
# the upstream too), a figure that other load on the machine disturbs far
# less than requests/s.
#
#   (cd /some/old/tree && go build -o /tmp/cg-old ./cmd/consentgate)
#   OLD=/tmp/cg-old bash bench/compare.sh      # builds this tree as "new"
#   ROUNDS=5 DURATION=10s CONNS=32 OLD=... [NEW=...] bash bench/compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
ROUNDS=${ROUNDS:-3}
CORPUS=${CORPUS:-../shared/corpus}
PAGES=${PAGES:-go_spec.html tracker_heavy.html}
: "${OLD:?set OLD to the old consentgate binary}"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/pages"
cp "$(go env GOROOT)/doc/go_spec.html" "$work/pages/go_spec.html"
cp "$CORPUS/readability__breitbart.html" "$work/pages/tracker_heavy.html"
NEW=${NEW:-}
if [ -z "$NEW" ]; then
	NEW=$work/consentgate
	go build -o "$NEW" ./cmd/consentgate
fi

start() { # binary base-port name
	cat >"$work/$3.caddy" <<CADDY
{
	admin off
	auto_https off
	persist_config off
}
:$(($2 + 1)) {
	root * $work/pages
	file_server
}
:$(($2 + 2)) {
	reverse_proxy 127.0.0.1:$(($2 + 1))
}
:$(($2 + 3)) {
	consent
	reverse_proxy 127.0.0.1:$(($2 + 1))
}
CADDY
	XDG_DATA_HOME=$work/data-$3 "$1" run --adapter caddyfile --config "$work/$3.caddy" >"$work/$3.log" 2>&1 &
	pid[$2]=$!
	for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$(($2 + 3))/go_spec.html" && return; sleep 0.2; done
	echo "$3 did not start:" >&2
	cat "$work/$3.log" >&2
	exit 1
}
declare -A pid
start "$NEW" 9100 new
start "$OLD" 9200 old

tck=$(getconf CLK_TCK)
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() { # port page → "rps p99ms cpu-µs-per-request"
	local p=${pid[$(($1 / 100 * 100))]} before
	before=$(cputicks "$p")
	wrk -t1 -c"$CONNS" -d"$DURATION" --latency -H 'Accept: text/html' "http://127.0.0.1:$1/$2" |
		awk -v before="$before" -v after_file="/proc/$p/stat" -v tck="$tck" '
		/requests in/ {n=$1} /Requests\/sec/ {rps=$2}
		/^ +99%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; p99=v}
		END {getline st < after_file; split(st, f, " "); printf "%.0f %.2f %.0f", rps, p99, (f[14]+f[15]-before)*1e6/tck/n}'
}

printf '%-18s %3s | %6s %6s %5s %6s %6s %5s %5s %5s | %6s %6s %5s %6s %6s %5s %5s %5s\n' page rnd \
	"new px" p99 µs/rq consent p99 µs/rq ratio cpu_r "old px" p99 µs/rq consent p99 µs/rq ratio cpu_r
for page in $PAGES; do
	for port in 9102 9103 9202 9203; do curl -fs -o /dev/null "http://127.0.0.1:$port/$page"; done # warm up
	for round in $(seq "$ROUNDS"); do
		declare -A rps p99 cpu
		order=(9102 9103 9202 9203)
		case $((round % 4)) in
		2) order=(9203 9202 9103 9102) ;;
		3) order=(9202 9203 9102 9103) ;;
		0) order=(9103 9102 9203 9202) ;;
		esac
		for port in "${order[@]}"; do
			read -r rps[$port] p99[$port] cpu[$port] <<<"$(run "$port" "$page")"
		done
		row() { # proxy-port consent-port
			printf '| %6s %6s %5s %6s %6s %5s %5.2f %5.2f ' "${rps[$1]}" "${p99[$1]}" "${cpu[$1]}" \
				"${rps[$2]}" "${p99[$2]}" "${cpu[$2]}" "$(echo "${rps[$2]} / ${rps[$1]}" | bc -l)" "$(echo "${cpu[$1]} / ${cpu[$2]}" | bc -l)"
		}
		printf '%-18s %3s ' "$page" "$round"
		row 9102 9103
		row 9202 9203
		echo
	done
done
