#!/usr/bin/env bash
# Makes this checkout ready to run meshquake and its tests: a Docker engine, the npm
# dependencies, the build (dist/) and meshquake's image; with --browser also Chromium (HTML report tests).
# Idempotent and quiet when everything is in place: one line per thing it installs or starts.
# Needs no TTY and no stdin. On Debian as root it installs what is missing (docker.io,
# debootstrap, chromium) from the machine's own apt sources; elsewhere it says what to do.
set -euo pipefail

usage() {
  echo "usage: scripts/setup.sh [--browser] [--bench]"
  echo "  --browser   also install Debian's chromium (/usr/bin/chromium) for the browser tests"
  echo "  --bench     also install Debian's wrk, the benchmarks' reference load generator"
}

want_browser=0
want_bench=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    --bench) want_bench=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "setup.sh: unknown option: $arg" >&2; usage >&2; exit 2 ;;
  esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec </dev/null

readonly DOCKERD_LOG=/tmp/meshquake-dockerd.log
readonly APT_LOG=/tmp/meshquake-apt.log
readonly NPM_LOG=/tmp/meshquake-npm.log
readonly BUILD_LOG=/tmp/meshquake-build.log

say() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }
# Prints the last lines of a log to stderr, then fails with a message.
die_with_log() { local log="$1"; shift; echo "--- last lines of $log ---" >&2; tail -n 25 "$log" >&2 || true; die "$*"; }

is_root() { [ "$(id -u)" -eq 0 ]; }
can_apt() { is_root && [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; }

apt_updated=0
# apt_install [--with-recommends] pkg...
apt_install() {
  local recommends="--no-install-recommends"
  if [ "$1" = "--with-recommends" ]; then recommends="--install-recommends"; shift; fi
  can_apt || die "cannot install $* here: that needs root on Debian. Install $* yourself, then rerun."
  if [ "$apt_updated" -eq 0 ]; then
    apt-get update >"$APT_LOG" 2>&1 || die_with_log "$APT_LOG" "apt-get update failed"
    apt_updated=1
  fi
  say "installing $* (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y "$recommends" "$@" >>"$APT_LOG" 2>&1 ||
    die_with_log "$APT_LOG" "apt-get install $* failed"
}

docker_ok() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

# A dockerd that is alive (a zombie left by a crashed one does not count).
dockerd_alive() {
  local pid
  for pid in $(pgrep -x dockerd 2>/dev/null); do
    case "$(ps -o stat= -p "$pid" 2>/dev/null)" in Z* | "") ;; *) return 0 ;; esac
  done
  return 1
}

start_dockerd() {
  local pid=""
  if ! dockerd_alive; then
    # A dockerd that died uncleanly leaves its pid file behind and refuses to start again.
    if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
      rm -f /var/run/docker.pid
    fi
    say "starting dockerd (log: $DOCKERD_LOG)"
    # Own session, no stdio ties: it must outlive this script and the shell that ran it.
    setsid nohup dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
    pid=$!
    disown || true
  fi
  local waited=0
  until docker info >/dev/null 2>&1; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      die_with_log "$DOCKERD_LOG" "dockerd exited during start-up"
    fi
    if [ "$waited" -ge 60 ]; then
      die_with_log "$DOCKERD_LOG" "the Docker engine did not answer 'docker info' within 60 s"
    fi
    sleep 1
    waited=$((waited + 1))
  done
}

# (a) A reachable Docker engine: use it; else install and start Debian's.
if ! docker_ok; then
  if ! can_apt; then
    die "no Docker engine answers 'docker info'. Start one (or point DOCKER_HOST at one) and rerun; \
on Debian, running this script as root installs and starts docker.io itself."
  fi
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    # With its recommends, as verified on these machines: cgroupfs-mount mounts the cgroup
    # hierarchies dockerd needs where no init system has.
    apt_install --with-recommends docker.io
  fi
  start_dockerd
fi
# Makes meshquake's own Debian base when no debian:bookworm-slim can be had (no registry).
if ! command -v debootstrap >/dev/null 2>&1 && ! [ -x /usr/sbin/debootstrap ] && can_apt; then
  apt_install debootstrap
fi

# (b) npm dependencies, when missing or older than the lockfile. A node_modules that is a symlink
# (a git worktree sharing another checkout's) is left alone: npm ci would empty the directory it
# points to, under every checkout that shares it, and replace the link with a copy of its own.
if [ -L node_modules ]; then
  if [ -f package-lock.json ] && [ -f node_modules/.package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "node_modules is a symlink (shared): not reinstalling it, though package-lock.json is newer than it"
  fi
elif [ -f package-lock.json ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm dependencies (npm ci)"
    npm ci --no-audit --no-fund >"$NPM_LOG" 2>&1 || die_with_log "$NPM_LOG" "npm ci failed"
  fi
elif [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm install)"
  npm install --no-audit --no-fund >"$NPM_LOG" 2>&1 || die_with_log "$NPM_LOG" "npm install failed"
fi

# (b') meshquake's build (dist/), which `meshquake` starts from: made when missing or older than a
# source (a few milliseconds to tell when it is up to date; `npm ci` above has built it already).
if ! node --input-type=module -e 'import { buildState } from "./bin/build-state.js"; process.exit(buildState(".") === "current" ? 0 : 1)'; then
  say "building dist/ (npm run build)"
  npm run build >"$BUILD_LOG" 2>&1 || die_with_log "$BUILD_LOG" "npm run build failed"
fi

# (c) meshquake's image: reused in well under a second when nothing changed. What it builds it
# reports itself on stderr; its one-line result on stdout is not repeated here.
if ! images_out="$(node bin/meshquake.js images)"; then
  [ -n "$images_out" ] && echo "$images_out" >&2
  die "'meshquake images' failed (see above)"
fi

# (d) Chromium for the browser tests.
if [ "$want_browser" -eq 1 ] && [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi

# (e) wrk for the benchmarks (a reference closed-loop generator to compare against).
if [ "$want_bench" -eq 1 ] && ! command -v wrk >/dev/null 2>&1; then
  apt_install wrk
fi
