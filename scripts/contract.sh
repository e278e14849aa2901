#!/usr/bin/env bash
# Contract fuzzing: installs schemathesis (pinned, from PyPI) into target/st-venv when missing,
# then runs the ignored contract tests, which start the real app on generated data (SQLite,
# and PostgreSQL when TEST_DATABASE_URL is set) and point schemathesis at its OpenAPI
# document. SCHEMATHESIS_EXAMPLES sets the examples per operation (default 25).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=4.32.5
VENV=target/st-venv
if ! "$VENV/bin/st" --version 2>/dev/null | grep -q "$VERSION"; then
    echo "installing schemathesis $VERSION"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "schemathesis==$VERSION"
fi
mkdir -p target/schemathesis
SCHEMATHESIS="$PWD/$VENV/bin/st" exec cargo test --locked --test api contract -- --ignored --nocapture "$@"
