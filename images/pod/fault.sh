#!/bin/sh
# Network faults inside one pod's network namespace. The harness runs it with `docker exec` in the
# pod's infra container (root, NET_ADMIN), which owns the namespace for the pod's whole life.
#
#   fault.sh partition <id> <until-epoch-ms> <both|oneway> <address>...
#       both:   drop every packet to and from the addresses
#       oneway: drop only connections this pod opens towards them (conntrack ORIGINAL direction);
#               connections they open towards this pod keep working
#   fault.sh bandwidth <id> <until-epoch-ms> <rate> <burst-bytes> <latency-ms>
#       tbf on the pod's interface: shapes everything the pod sends (netem does not exist here)
#   fault.sh revert <id>       undo a fault now; idempotent ("reverted" or "absent")
#   fault.sh expire <id>       what the dead-man timer runs at the fault's end
#   fault.sh list              ids of the faults installed
#
# Each apply first writes how to undo itself, then installs, then starts a dead-man timer in its
# own session that undoes the fault at <until-epoch-ms> even if the harness is gone (SIGKILL).
# A normal revert kills the timer. Partition rules live in a chain per fault (MQF_<id>), jumped to
# from the pod's MQ_FAULTS_IN / MQ_FAULTS_OUT chains (pod-init.sh) for packets on the pod's network
# interface only, so faults never share a rule and loopback (the app ↔ sidecar hop) is untouched.
# Output: the installed state (iptables -S / tc qdisc show) as evidence for the harness.
set -eu

STATE=/run/meshquake-faults
SELF="$(readlink -f "$0")"

die() {
  echo "fault.sh: $*" >&2
  exit 2
}

now_ms() { date +%s%3N; }

# Logs to the proxy container's stdout (docker logs), so an expiry leaves a trace.
note() { echo "meshquake: $*" >/proc/1/fd/1 2>/dev/null || true; }

check_id() {
  case "$1" in
    *[!a-z0-9]* | "") die "fault id must be [a-z0-9]+, got '$1'" ;;
  esac
  [ ${#1} -le 20 ] || die "fault id longer than 20 characters: $1"
}

check_until() {
  case "$1" in
    *[!0-9]* | "") die "until must be epoch milliseconds, got '$1'" ;;
  esac
  [ "$1" -gt "$(now_ms)" ] || die "the fault's end ($1) has already passed"
}

begin() { # <id>: refuses a second apply of the same id, prepares the undo file
  mkdir -p "$STATE"
  [ ! -e "$STATE/$1.undo" ] || die "fault $1 is already installed"
  : >"$STATE/$1.undo"
}

undo_step() { # <id> <command...>: appended to the fault's undo script, failures ignored
  f="$STATE/$1.undo.tmp"
  shift
  echo "$* 2>/dev/null || true" >>"$f"
}

start_timer() { # <id> <until-epoch-ms>
  left=$(($2 - $(now_ms)))
  [ "$left" -gt 0 ] || left=0
  secs="$((left / 1000)).$(printf '%03d' $((left % 1000)))"
  # A session of its own: survives the exec that started it, and a revert kills the whole group.
  setsid sh -c "sleep $secs; exec sh '$SELF' expire $1" </dev/null >/dev/null 2>&1 &
  echo $! >"$STATE/$1.timer"
}

run_undo() { # <id>
  [ -e "$STATE/$1.undo" ] || return 1
  sh "$STATE/$1.undo" || true
  rm -f "$STATE/$1.undo" "$STATE/$1.timer"
}

partition() {
  [ $# -ge 4 ] || die "usage: fault.sh partition <id> <until-epoch-ms> <both|oneway> <address>..."
  id=$1 until=$2 direction=$3
  shift 3
  check_id "$id"
  check_until "$until"
  case "$direction" in both | oneway) ;; *) die "direction must be both or oneway, got '$direction'" ;; esac
  for addr in "$@"; do
    case "$addr" in *[!0-9.]* | "") die "not an IPv4 address: '$addr'" ;; esac
  done
  chain="MQF_$id"
  begin "$id"
  # Undo in reverse: unhook, then flush and delete the chain.
  rm -f "$STATE/$id.undo.tmp"
  undo_step "$id" "iptables -D MQ_FAULTS_OUT ! -o lo -j $chain"
  [ "$direction" = oneway ] || undo_step "$id" "iptables -D MQ_FAULTS_IN ! -i lo -j $chain"
  undo_step "$id" "iptables -F $chain"
  undo_step "$id" "iptables -X $chain"
  mv "$STATE/$id.undo.tmp" "$STATE/$id.undo"
  # Any failing step undoes what was installed and fails the whole apply.
  ipt() { iptables "$@" || { run_undo "$id"; die "could not install partition $id: iptables $* failed"; }; }
  ipt -N "$chain"
  for addr in "$@"; do
    if [ "$direction" = both ]; then
      ipt -A "$chain" -d "$addr" -j DROP
      ipt -A "$chain" -s "$addr" -j DROP
    else
      ipt -A "$chain" -d "$addr" -m conntrack --ctdir ORIGINAL -j DROP
    fi
  done
  # Only packets on the pod's network interface: the app's intercepted calls reach the sidecar
  # over loopback with the peer's address restored by NAT (so an INPUT rule on that address
  # would drop the sidecar's answers to its own app), and must keep working.
  ipt -I MQ_FAULTS_OUT ! -o lo -j "$chain"
  [ "$direction" = oneway ] || ipt -I MQ_FAULTS_IN ! -i lo -j "$chain"
  start_timer "$id" "$until"
  iptables -S "$chain"
}

bandwidth() {
  [ $# -eq 5 ] || die "usage: fault.sh bandwidth <id> <until-epoch-ms> <rate> <burst-bytes> <latency-ms>"
  id=$1 until=$2 rate=$3 burst=$4 latency=$5
  check_id "$id"
  check_until "$until"
  case "$rate" in *[!0-9a-z.]* | "") die "not a tc rate: '$rate'" ;; esac
  case "$burst$latency" in *[!0-9]* | "") die "burst and latency must be integers" ;; esac
  dev="$(ip -o route show default | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -n 1)"
  [ -n "$dev" ] || die "no default route: cannot tell the pod's interface"
  if tc qdisc show dev "$dev" root | grep -q '^qdisc tbf'; then
    die "$dev already has a bandwidth limit (another bandwidth fault on this pod?)"
  fi
  begin "$id"
  rm -f "$STATE/$id.undo.tmp"
  undo_step "$id" "tc qdisc del dev $dev root"
  mv "$STATE/$id.undo.tmp" "$STATE/$id.undo"
  if ! tc qdisc replace dev "$dev" root tbf rate "$rate" burst "$burst" latency "${latency}ms"; then
    run_undo "$id"
    die "could not install a tbf qdisc on $dev"
  fi
  start_timer "$id" "$until"
  tc qdisc show dev "$dev" root
}

revert() {
  [ $# -eq 1 ] || die "usage: fault.sh revert <id>"
  check_id "$1"
  if [ -e "$STATE/$1.timer" ]; then
    kill -TERM "-$(cat "$STATE/$1.timer")" 2>/dev/null || true
  fi
  if run_undo "$1"; then echo "reverted $1"; else echo "absent $1"; fi
}

expire() {
  check_id "$1"
  if run_undo "$1"; then note "fault $1 reached its end and was removed by its dead-man timer at $(now_ms)"; fi
}

cmd="${1:-}"
[ $# -eq 0 ] || shift
case "$cmd" in
  partition) partition "$@" ;;
  bandwidth) bandwidth "$@" ;;
  revert) revert "$@" ;;
  expire) expire "$@" ;;
  list) ls "$STATE" 2>/dev/null | sed -n 's/\.undo$//p' ;;
  *) die "usage: fault.sh partition|bandwidth|revert|expire|list ..." ;;
esac
