#!/usr/bin/env bash
# The project's AWS SAM CLI (installed into .venv-sam by scripts/bootstrap.sh), with the project's Python 3.13 first
# on PATH (SAM's python3.13 build workflow and the layer Makefile need it). `build` and `deploy` go through the
# project's guards and the configuration digest (devtools/deploy.py); other commands go to `sam` unchanged:
#   scripts/sam.sh build
#   scripts/sam.sh deploy --guided
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --no-ddb >&2   # idempotent: creates or refreshes .venv and .venv-sam
export SAM_CLI_TELEMETRY="${SAM_CLI_TELEMETRY:-0}"
PATH="$PWD/.venv/bin:$PATH" exec .venv/bin/python -m devtools.deploy "$@"
