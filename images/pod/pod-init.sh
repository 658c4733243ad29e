#!/bin/sh
# Runs as the infra container of a pod: owns the network namespace that the app and the sidecar
# join. Installs Istio-style transparent interception, then holds the namespace open.
#   outbound: the app's TCP (anything not from the sidecar's uid, not to loopback) -> :OUTBOUND
#   inbound:  TCP arriving for the app's port -> :INBOUND (the sidecar forwards it to the app)
set -eu
APP_PORT="${MQ_APP_PORT:?}"
OUTBOUND="${MQ_OUTBOUND_PORT:-15001}"
INBOUND="${MQ_INBOUND_PORT:-15006}"
# The sidecar runs as this uid (the harness passes it); only its traffic skips the redirect.
PROXY_UID="${MQ_PROXY_UID:?}"

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
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
