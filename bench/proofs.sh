#!/usr/bin/env bash
# Consent posts per second and p99 through the gateway, each sealed into a
# proof and stored (embedded bolt file, then Redis), against Caddy's own
# `respond` answering 204 in the same process and run. A second `respond`
# row answers with as many bytes as the gateway does (a Set-Cookie and the
# JSON state of the same lengths): that is the floor for the work of
# answering, so the rest of the gap is the gateway's own work and the store.
# Each row also shows the CPU the gateway and Redis spent per request (the
# gateway's /proc counters, Redis's INFO cpu): where the gap goes.
#
# A shared machine's speed drifts by a third within minutes, so the four
# setups run in turn for ROUNDS rounds. Each round's ratios are taken
# against that round's 204; a row shows the medians, and the ratios of
# every round.
#
#   bash bench/proofs.sh                      # 3 rounds of 10 s per run, 32 connections
#   ROUNDS=5 DURATION=20s CONNS=64 REDIS=127.0.0.1:6379 bash bench/proofs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-32}
REDIS=${REDIS:-127.0.0.1:6379}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
prefix="bench$$"
go build -o "$work/consentgate" ./cmd/consentgate
# The lengths of a real answer to bench/choice.lua: a 320-byte cookie value
# and a 164-byte state.
cookie="consentgate=$(printf 'x%.0s' $(seq 320)); Path=/; Max-Age=18144000; HttpOnly; SameSite=Lax"
state='{"decided":true,"purposes":{"necessary":true,"functional":false,"analytics":true,"marketing":false,"social":false},"vendors":[],"policy_version":"0123456789abcdef"}'
cat > "$work/Caddyfile" <<CADDY
{
	admin off
	auto_https off
	persist_config off
}
:9201 {
	respond 204
}
:9204 {
	header Set-Cookie "$cookie"
	header Cache-Control no-store
	header Content-Type application/json
	respond \`$state\` 200
}
:9202 {
	consent {
		chain bench-bolt
	}
	respond 204
}
:9203 {
	consent {
		store redis://$REDIS/0?prefix=$prefix
		chain bench-redis
	}
	respond 204
}
CADDY
XDG_DATA_HOME=$work/data "$work/consentgate" run --config "$work/Caddyfile" >"$work/caddy.log" 2>&1 &
gateway=$!
for _ in $(seq 50); do curl -fs -o /dev/null http://127.0.0.1:9201/ && break; sleep 0.2; done

# CPU seconds used so far: the gateway's (its /proc counters) and Redis's
# (INFO cpu, which works for a remote server too).
gatewayCPU() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.4f", ($14 + $15) / hz}' "/proc/$gateway/stat"; }
redisCPU() {
	redis-cli -h "${REDIS%:*}" -p "${REDIS#*:}" info cpu |
		awk -F: '/^used_cpu_(sys|user):/ {s += $2} END {printf "%.4f", s}'
}
run() { # port path → "rps p99ms gateway-us/request redis-us/request"
	local g0 r0 out
	g0=$(gatewayCPU) r0=$(redisCPU)
	out=$(wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s bench/choice.lua "http://127.0.0.1:$1$2")
	awk -v g0="$g0" -v g1="$(gatewayCPU)" -v r0="$r0" -v r1="$(redisCPU)" '
		/requests in/ {n=$1} /Requests\/sec/ {rps=$2}
		/^ +99%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; p99=v}
		END {printf "%.0f %.2f %.1f %.1f", rps, p99, (g1 - g0) * 1e6 / n, (r1 - r0) * 1e6 / n}' <<<"$out"
}
setups=("respond_204 9201 /" "respond_(same_bytes) 9204 /" "consent_→_bolt 9202 /.consent/choice" "consent_→_redis 9203 /.consent/choice")
for round in $(seq "$ROUNDS"); do
	for i in "${!setups[@]}"; do
		read -r name port path <<<"${setups[$i]}"
		echo "$round $i $name $(run "$port" "$path")"
	done
done >"$work/runs"
# One row per setup: medians over the rounds (of req/s, p99, CPU, and of
# each round's ratios to its own 204), then every round's req/s ratio.
awk -v rounds="$ROUNDS" '
	function median(a, n,    i, j, t, b) {
		for (i = 1; i <= n; i++) b[i] = a[i]
		for (i = 2; i <= n; i++) for (j = i; j > 1 && b[j-1] > b[j]; j--) { t = b[j]; b[j] = b[j-1]; b[j-1] = t }
		return n % 2 ? b[(n+1)/2] : (b[n/2] + b[n/2+1]) / 2
	}
	{ r = $1; i = $2; name[i] = $3; rps[i, r] = $4; p99[i, r] = $5; gw[i, r] = $6; red[i, r] = $7; if (i > last) last = i }
	END {
		row = "%-22s %10s %10s %10s %10s %14s %12s  %s\n"
		printf row, "setup", "req/s", "p99 ms", "rps ratio", "p99 ratio", "gateway µs/req", "Redis µs/req", "rps ratio per round"
		for (i = 0; i <= last; i++) {
			split("", a); split("", b); split("", c); split("", d); split("", e); split("", f); per = ""
			for (r = 1; r <= rounds; r++) {
				a[r] = rps[i, r]; b[r] = p99[i, r]; c[r] = gw[i, r]; d[r] = red[i, r]
				e[r] = rps[i, r] / rps[0, r]; f[r] = p99[i, r] / p99[0, r]
				per = per sprintf(" %.2f", e[r])
			}
			n = name[i]; gsub(/_/, " ", n)
			printf row, n, sprintf("%.0f", median(a, rounds)), sprintf("%.2f", median(b, rounds)),
				i ? sprintf("%.2f", median(e, rounds)) : "", i ? sprintf("%.2f", median(f, rounds)) : "",
				sprintf("%.1f", median(c, rounds)), sprintf("%.1f", median(d, rounds)), i ? per : ""
		}
	}' "$work/runs"
# Stop the gateway first: it writes a last checkpoint as it shuts down.
kill "$gateway" && wait "$gateway" || true
redis-cli -h "${REDIS%:*}" -p "${REDIS#*:}" --scan --pattern "{$prefix:*" | xargs -r redis-cli -h "${REDIS%:*}" -p "${REDIS#*:}" del >/dev/null
redis-cli -h "${REDIS%:*}" -p "${REDIS#*:}" del "$prefix:chains" >/dev/null
