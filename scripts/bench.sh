#!/usr/bin/env bash
# The benchmarks (`npm run bench`): sets up what they need (engine, images, wrk), then runs each
# bench/*.bench.ts in turn. Each prints its own table of ratios measured in the same run; none is
# a pass/fail test. Pass file names to run only those; extra flags go to every bench.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --bench || { echo "setup failed"; exit 1; }
files=()
flags=()
for arg in "$@"; do
  case "$arg" in
    -*) flags+=("$arg") ;;
    *) files+=("$arg") ;;
  esac
done
[ ${#files[@]} -gt 0 ] || files=(bench/*.bench.ts)
status=0
for f in "${files[@]}"; do
  echo "== $f"
  npx tsx "$f" "${flags[@]}" || status=1
  echo
done
exit $status
