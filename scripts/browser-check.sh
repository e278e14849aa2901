#!/usr/bin/env bash
# The dashboard and the browsable API's forms in headless Chromium: serves the real binary
# after one sync against the in-tree fake GitHub (the bench's --demo), then runs
# scripts/browser/check.mjs, which checks the rendered DOM, submits the forms, refuses any
# request that would leave 127.0.0.1 and writes screenshots to target/browser/.
# Installs Debian's chromium and the pinned playwright-core (npm) when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
    echo "installing chromium"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi
fi
(cd scripts/browser && npm ci --no-audit --no-fund --silent)
mkdir -p target/browser
address_file=target/browser/address
rm -f "$address_file"
cargo bench --bench bench --no-run
cargo bench --bench bench -- --demo "$address_file" &
demo=$!
trap 'rm -f "$address_file"; wait "$demo" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
    [ -s "$address_file" ] && break
    kill -0 "$demo" 2>/dev/null || { echo "the demo server stopped" >&2; exit 1; }
    sleep 0.5
done
[ -s "$address_file" ] || { echo "the demo server did not start" >&2; exit 1; }
node scripts/browser/check.mjs "$(cat "$address_file")" bench bench-password target/browser
