#!/usr/bin/env bash
# The README's test command: sets up what the tests need (engine, images, browser), runs the unit,
# Docker and browser suites, checks nothing labelled was left behind, and ends with
# "N passed, N failed". Exit status is non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --browser || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
mkdir -p test-results
rm -rf test-results/vitest.json test-results/playwright.json test-results/example-reports test-results/browser-reports

status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json "$@" || status=1
if [ $# -eq 0 ]; then
  PLAYWRIGHT_JSON_OUTPUT_NAME=test-results/playwright.json npx playwright test --reporter=list,json || status=1
fi

node scripts/summarize-tests.mjs test-results/vitest.json test-results/playwright.json || status=1
exit $status
