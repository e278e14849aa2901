#!/usr/bin/env bash
# Checks the API against its OpenAPI document with other people's tools, installed (pinned,
# from PyPI) into target/ when missing:
# - schemathesis fuzzes the real app on generated data (SQLite, and PostgreSQL when
#   TEST_DATABASE_URL is set) from the document; SCHEMATHESIS_EXAMPLES sets the examples per
#   operation (default 25);
# - networkx (with Python's csv and json) reads the graph export;
# - openapi-python-client (with ruff, which it formats with) generates a client from the
#   document, which must come out without a warning.
set -euo pipefail
cd "$(dirname "$0")/.."

install() { # VENV BINARY PACKAGE==VERSION…
    local venv=$1 binary=$2
    shift 2
    if ! "$venv/bin/pip" freeze 2>/dev/null | grep -qx "$1"; then
        echo "installing $*"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet "$@"
    fi
    [ -x "$venv/bin/$binary" ]
}
install target/st-venv st "schemathesis==4.32.5"
install target/opc-venv openapi-python-client "openapi-python-client==0.29.1" "ruff==0.17.6"
install target/nx-venv python "networkx==3.4.2"

mkdir -p target/schemathesis
export SCHEMATHESIS="$PWD/target/st-venv/bin/st"
export OPENAPI_PYTHON_CLIENT="$PWD/target/opc-venv/bin/openapi-python-client"
export NETWORKX_PYTHON="$PWD/target/nx-venv/bin/python"
# The generator runs ruff from PATH.
export PATH="$PWD/target/opc-venv/bin:$PATH"
exec cargo test --locked --test api -- --ignored --nocapture contract a_python_client networkx "$@"
