#!/usr/bin/env bash
# Soak test under faults: page loads and consent posts through the gateway
# (the example shop, proofs in Redis) for a fixed time while, on a
# schedule, Redis is restarted, the config is reloaded, and the gateway is
# stopped gracefully, killed with SIGKILL, and killed while Redis is down.
# Afterwards it waits for the spool to drain, exports the consent log and
# verifies the chain, and checks every acknowledged choice against it.
#
#   bash bench/soak.sh                     # short form (45 s of load), as .ci/run runs it
#   bash bench/soak.sh --duration 10m      # long form, by hand (BENCHMARKS.md has a run)
#   bash bench/soak.sh --duration 5m --workers 16 --every 15 --faults redis,kill --keep
#
# --faults is the cycle of faults, in order (default all of them, or
# $SOAK_FAULTS, which .ci/run passes on):
#   redis        Redis shut down for 3-5 s, then started again
#   redis-crash  Redis killed with SIGKILL for 3-5 s (its AOF is fsynced on every write)
#   reload       the Caddyfile changed harmlessly and `consentgate reload`ed
#   graceful     `consentgate stop`, then started again
#   kill         the gateway killed with SIGKILL, then started again
#   outage-kill  Redis shut down, the gateway killed with SIGKILL while proofs
#                are spooled, started again while Redis is still down, then Redis
#   spool-kill   the same, but Redis is back before the gateway starts again
#                (it starts with proofs in its spool and the store reachable)
# GATEWAY=/path/to/consentgate tests that build instead of building this tree.
# --every is the pause between faults in seconds (default: the run split
# evenly, at most 20 s). --keep keeps the work directory (logs, export).
# --think pauses each worker between requests (e.g. 20ms): unthrottled, 8
# workers post some 300 choices a second on two cores, and each proof
# takes about 1 KB in Redis's AOF and 1 KB in the export (in $TMPDIR), so a
# 30-minute run at full speed wants a GB or two of disk.
#
# Goals (exit 1 if one fails): every fault asked for ran; every reload
# succeeded and its new configuration (its X-Soak-Generation header) is
# served; pages served and consent posts acknowledged while Redis was down;
# no request timed out (a hang) and none was cut off except as the gateway
# was killed with SIGKILL or a server shut down (a graceful stop, the old
# server of a reload: Go's HTTP server drops, unanswered, a request it reads
# just as its shutdown begins); the script logs those windows in its event
# log; no 5xx on pages or consent posts; no acknowledged proof
# lost, none duplicated; the spool drained with nothing rejected; and a
# chain that verifies. Refused connections while the gateway restarts are
# counted as "unavailable" and retried, not as errors.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

DURATION=45s
WORKERS=8
THINK=0s
EVERY=
FAULTS=${SOAK_FAULTS:-redis,reload,graceful,kill,outage-kill,redis-crash,spool-kill}
KEEP=
while [ $# -gt 0 ]; do
	case $1 in
	--duration) DURATION=$2; shift 2 ;;
	--workers) WORKERS=$2; shift 2 ;;
	--think) THINK=$2; shift 2 ;;
	--every) EVERY=$2; shift 2 ;;
	--faults) FAULTS=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "soak.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
seconds() { # 45s, 5m, 1h, 90 → seconds
	case $1 in
	*h) echo $((${1%h} * 3600)) ;;
	*m) echo $((${1%m} * 60)) ;;
	*s) echo "${1%s}" ;;
	*) echo "$1" ;;
	esac
}
secs=$(seconds "$DURATION")
IFS=, read -r -a faults <<<"$FAULTS"
if [ -z "$EVERY" ]; then
	# A fault itself takes up to 5 s; leave 2 s at the start and 8 s at the end.
	EVERY=$(((secs - 10) / ${#faults[@]} - 3))
	[ "$EVERY" -gt 20 ] && EVERY=20
	[ "$EVERY" -lt 1 ] && EVERY=1
fi

for tool in redis-server redis-cli curl; do
	command -v $tool >/dev/null || { echo "soak.sh needs $tool (apt-get install redis-server redis-tools curl)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/consentgate-soak.XXXXXX")
gw_pid=
redis_pid=
driver_pid=
cleanup() {
	for p in $driver_pid $gw_pid $redis_pid; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	for p in $gw_pid $redis_pid; do # disowned: wait does not see them
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	if [ -n "$KEEP" ]; then
		echo "work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'echo "soak.sh: line $LINENO: $BASH_COMMAND failed" >&2' ERR

t0=$(date +%s)
log() { printf '[%4ds] %s\n' $(($(date +%s) - t0)) "$*"; }

log "building consentgate, consentctl and the driver"
if [ -n "${GATEWAY:-}" ]; then
	cp "$GATEWAY" "$work/consentgate"
else
	go build -o "$work/consentgate" ./cmd/consentgate
fi
go build -o "$work/consentctl" ./cmd/consentctl
go build -o "$work/soakdriver" ./bench/soakdriver

read -r site_port admin_port redis_port <<<"$("$work/soakdriver" ports 3 | tr '\n' ' ')"
key() { head -c 32 /dev/urandom | base64; }
hash_key=$(key) block_key=$(key) proof_key=$(key) signing_key=$(key)
admin=127.0.0.1:$admin_port
base=http://127.0.0.1:$site_port
mkdir -p "$work/redis" "$work/data" "$work/config"

# --- Redis: our own server on a free port; every write fsynced to its AOF,
# so a restart (even SIGKILL) keeps whatever it acknowledged.
redis_start() {
	redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly yes --appendfsync always \
		--dir "$work/redis" --logfile "$work/redis.log" &
	redis_pid=$!
	disown "$redis_pid" # no "Killed" notices; we wait by polling
	for _ in $(seq 100); do
		# PONG, not LOADING: the AOF is read back before Redis answers.
		[ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && { event up; return; }
		sleep 0.1
	done
	log "Redis did not start:"; tail -5 "$work/redis.log" >&2; exit 1
}
event() { echo "$1 $(date +%s.%N)" >>"$work/events"; }
redis_stop() { # shutdown | kill
	event down
	if [ "$1" = kill ]; then
		kill -9 "$redis_pid"
	else
		redis-cli -p "$redis_port" shutdown >/dev/null 2>&1 || true
	fi
	for _ in $(seq 100); do kill -0 "$redis_pid" 2>/dev/null || break; sleep 0.1; done
	redis_pid=
}

# --- The gateway: the example shop with fixed keys and chain, so restarts
# continue the same chain and visitors keep their cookies; its data
# directory (spool, chain head) survives restarts.
generation=0
write_config() {
	cat >"$work/Caddyfile" <<CADDY
{
	admin $admin
	auto_https off
	persist_config off
	grace_period 10s
}
:$site_port {
	root * $root/examples/shop/site
	encode zstd gzip
	header X-Soak-Generation $generation
	consent {
		privacy_policy /privacy.html
		store redis://127.0.0.1:$redis_port/0?prefix=soak
		chain soak-1
		key $hash_key $block_key
		proof_key $proof_key
		signing_key $signing_key
	}
	file_server
}
CADDY
}
export XDG_DATA_HOME=$work/data XDG_CONFIG_HOME=$work/config # Caddy's data directory: keys, spool, chain head
gw() { "$work/consentgate" "$@"; }
gw_start() {
	# A simple command, so that $! is the gateway itself (SIGKILL must hit it).
	"$work/consentgate" run --adapter caddyfile --config "$work/Caddyfile" >>"$work/gateway.log" 2>&1 &
	gw_pid=$!
	disown "$gw_pid"
	for _ in $(seq 300); do
		curl -fs -o /dev/null "$base/.consent/state" && { event started; return; }
		kill -0 "$gw_pid" 2>/dev/null || break
		sleep 0.1
	done
	log "the gateway did not start:"; tail -20 "$work/gateway.log" >&2; exit 1
}
gw_kill() { # SIGKILL; requests cut off from here until it has started again are expected
	event kill
	kill -9 "$gw_pid"
	gw_wait_exit
}
gw_wait_exit() {
	for _ in $(seq 300); do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$gw_pid" 2>/dev/null; then
		log "the gateway did not stop within 30 s"; exit 1
	fi
	gw_pid=
}
pending() { # proofs waiting in the spool, from the metrics
	{ curl -fs "http://$admin/metrics" || true; } | awk '/^caddy_consent_proofs_pending / {print $2; found=1} END {if (!found) print "?"}'
}

write_config
redis_start
gw_start
log "gateway on $base (admin $admin), Redis on 127.0.0.1:$redis_port; ${DURATION} of load, ${WORKERS} workers; faults every ${EVERY}s: $FAULTS"

"$work/soakdriver" run -base "$base" -duration "${secs}s" -workers "$WORKERS" \
	-think "$THINK" -hash-key "$hash_key" -block-key "$block_key" -out "$work/run.json" &
driver_pid=$!
end=$(($(date +%s) + secs))

declare -A done_count
fault() {
	case $1 in
	redis | redis-crash)
		local down=$((3 + RANDOM % 3)) how=shutdown
		[ "$1" = redis-crash ] && how=kill
		log "fault: Redis $how, down ${down}s"
		redis_stop $how
		sleep "$down"
		redis_start
		log "       Redis back (pending in spool: $(pending))"
		;;
	reload)
		generation=$((generation + 1))
		write_config
		log "fault: config reload (generation $generation)"
		event reload
		if ! gw reload --adapter caddyfile --config "$work/Caddyfile" --address "$admin" >>"$work/gateway.log" 2>&1; then
			event reloaded
			log "reload FAILED"; reload_problems=$((reload_problems + 1))
		else
			event reloaded
			# The new configuration must be what answers now.
			served=$(curl -fs -o /dev/null -D - "$base/" | tr -d '\r' | awk 'tolower($1) == "x-soak-generation:" {print $2}') ||
				served="no answer"
			if [ "$served" != "$generation" ]; then
				log "reload not in effect: X-Soak-Generation '$served', want $generation"; reload_problems=$((reload_problems + 1))
			fi
		fi
		;;
	graceful)
		log "fault: graceful stop and start of the gateway"
		event stop
		gw stop --address "$admin" >>"$work/gateway.log" 2>&1 || log "stop command failed"
		gw_wait_exit
		gw_start
		log "       gateway back"
		;;
	kill)
		log "fault: SIGKILL of the gateway"
		gw_kill
		gw_start
		log "       gateway back"
		;;
	outage-kill | spool-kill)
		log "fault: Redis shut down, then SIGKILL of the gateway while proofs are spooled"
		redis_stop shutdown
		sleep 1.5
		log "       pending in spool: $(pending); killing the gateway"
		gw_kill
		if [ "$1" = spool-kill ]; then
			redis_start
			gw_start
			log "       Redis back, then the gateway (pending in spool: $(pending))"
		else
			gw_start
			sleep 1.5
			log "       gateway back while Redis is down (pending in spool: $(pending)); starting Redis"
			redis_start
		fi
		;;
	*) log "unknown fault $1"; exit 2 ;;
	esac
	done_count[$1]=$((${done_count[$1]:-0} + 1))
}

reload_problems=0
i=0
sleep 2
while [ $(($(date +%s) + 8)) -le "$end" ]; do
	fault "${faults[i % ${#faults[@]}]}"
	i=$((i + 1))
	left=$((end - $(date +%s) - 8))
	[ "$left" -le 0 ] && break
	pause=$EVERY
	if [ "$i" -lt "${#faults[@]}" ]; then
		# Until every fault has run once, pause only as long as leaves each
		# of the rest about 5 s (a slow machine must not skip any).
		todo=$((${#faults[@]} - i))
		fit=$(((left - 5 * todo) / todo))
		if [ "$fit" -lt "$pause" ]; then pause=$fit; fi
	fi
	if [ "$pause" -gt 0 ]; then sleep $((pause < left ? pause : left)); fi
done
wait "$driver_pid" || { log "the driver failed"; exit 1; }
driver_pid=
log "load finished; waiting for the spool to drain"

left=?
for _ in $(seq 600); do
	left=$(pending)
	[ "$left" = 0 ] && break
	sleep 0.1
done
log "pending in spool: $left; exporting and verifying"
ctl() { "$work/consentctl" "$@" --address "$admin"; }
ctl checkpoint >/dev/null
ctl export -o "$work/export.jsonl"
ctl verify --json >"$work/verify.json" || true
ctl verify || true

summary= missing=
for f in "${faults[@]}"; do
	if [ -n "${done_count[$f]:-}" ]; then
		[[ ", $summary" == *", $f ×"* ]] || summary+="${summary:+, }$f ×${done_count[$f]}"
	else
		[[ ",$missing," == *",$f,"* ]] || missing+="${missing:+,}$f"
	fi
done
# The spool is per chain and store (spool-<chain>-<store hash>); exactly one
# here, or the rejected.log checked below would be a file that never exists.
spools=("$work"/data/caddy/consentgate/spool-soak-1-*/)
[ "${#spools[@]}" = 1 ] && [ -d "${spools[0]}" ] || { echo "want one spool directory of chain soak-1, found: ${spools[*]}" >&2; exit 1; }
status=0
"$work/soakdriver" check -run "$work/run.json" -export "$work/export.jsonl" -verify "$work/verify.json" \
	-pending "${left/\?/-1}" -rejected "${spools[0]}rejected.log" \
	-events "$work/events" -faults "${summary:-none}" -missing-faults "$missing" -reload-problems "$reload_problems" || status=$?
if [ "$status" != 0 ]; then
	echo
	echo "gateway warnings and errors, except the expected ones of a store outage (last 15):"
	grep -E '"level":"(warn|error)"' "$work/gateway.log" |
		grep -Ev 'HTTP/[23] skipped|exiting; byeee|proof replay failed, will retry|proof store unavailable, spooling' | tail -15 || true
	KEEP=1
fi
log "done"
exit "$status"
