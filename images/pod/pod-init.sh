#!/bin/sh
# Runs as the proxy container of a pod, the one that owns the network namespace the app joins.
# As root (NET_ADMIN): installs Istio-style transparent interception, says so, then starts the
# sidecar (the command given as arguments) as the sidecar's uid with no capability left, once the
# harness says go (every replica name it routes to is on the network by then, so it resolves its
# servers without a DNS timeout).
#   outbound: the app's TCP (anything not from the sidecar's uid, not to loopback) -> :OUTBOUND
#   inbound:  TCP arriving for the app's port -> :INBOUND (the sidecar forwards it to the app)
#   usage: pod-init.sh <sidecar command...>
set -eu
APP_PORT="${MQ_APP_PORT:?}"
OUTBOUND="${MQ_OUTBOUND_PORT:-15001}"
INBOUND="${MQ_INBOUND_PORT:-15006}"
# The sidecar runs as this uid (the harness passes it); only its traffic skips the redirect.
PROXY_UID="${MQ_PROXY_UID:?}"
# The file whose appearance is the harness's go.
GATE="${MQ_SIDECAR_GATE:?}"

iptables -t nat -N MQ_OUTBOUND
iptables -t nat -A MQ_OUTBOUND -m owner --uid-owner "$PROXY_UID" -j RETURN
iptables -t nat -A MQ_OUTBOUND -d 127.0.0.0/8 -j RETURN
iptables -t nat -A MQ_OUTBOUND -p tcp -j REDIRECT --to-ports "$OUTBOUND"
iptables -t nat -A OUTPUT -p tcp -j MQ_OUTBOUND

iptables -t nat -N MQ_INBOUND
iptables -t nat -A MQ_INBOUND -p tcp --dport "$APP_PORT" -j REDIRECT --to-ports "$INBOUND"
iptables -t nat -A PREROUTING -p tcp -j MQ_INBOUND

# Chains for faults that live in the network (partitions), empty until a fault fills them.
iptables -N MQ_FAULTS_IN
iptables -N MQ_FAULTS_OUT
iptables -I INPUT -j MQ_FAULTS_IN
iptables -I OUTPUT -j MQ_FAULTS_OUT

echo "meshquake: pod network ready"
# A uid change from root clears the permitted and effective capabilities; the inheritable ones go
# too, and no-new-privileges (the container's) keeps anything from raising them again. The wait
# for the go runs as the sidecar already: its directory is its own (root keeps no DAC override).
setpriv --reuid="$PROXY_UID" --regid="$PROXY_UID" --clear-groups --inh-caps=-all -- \
  sh -c 'trap "exit 0" TERM INT; while [ ! -e "$1" ]; do sleep 0.05; done; trap - TERM INT; shift; exec "$@"' gate "$GATE" "$@" &
sidecar=$!
# This shell stays process 1, as root: the fault scripts' dead-man timers note their expiry on its
# stdout (the container's log), which a process of another uid could not open. It passes a stop
# on to the sidecar and ends with it, so the container dies when the sidecar does.
trap 'kill -TERM "$sidecar" 2>/dev/null' TERM INT
while :; do
  status=0
  wait "$sidecar" || status=$?
  kill -0 "$sidecar" 2>/dev/null || exit "$status"
done
