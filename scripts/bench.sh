#!/usr/bin/env bash
# Benchmarks: installs wrk (Debian's package) when missing, then runs the bench binary,
# which prints a table and writes target/bench/results.json. Arguments go to the binary:
#   scripts/bench.sh [--scale small|large] [--backend sqlite|postgres|both] [--seconds N]
#   [--ingest-followers N] [--load-seconds N] [--crawl-windows N] (see benches/bench/main.rs)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
    echo "installing wrk"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; else sudo apt-get update -qq && sudo apt-get install -y -qq wrk; fi
fi
exec cargo bench --bench bench -- "$@"
