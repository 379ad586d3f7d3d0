#!/usr/bin/env bash
# Run chatstate on this machine without AWS or Docker (DynamoDB Local + the functions in-process).
#   scripts/run-local.sh                      # the chat page + API on http://127.0.0.1:3000 (Ctrl-C stops everything)
#   scripts/run-local.sh serve --port 8080 --logs
#   scripts/run-local.sh demo                 # a scripted Lex conversation + chat API calls
#   scripts/run-local.sh invoke LexFulfillmentFunction -e events/lex_greeting.json
#   scripts/run-local.sh lex [--memory]       # the Lex console's test window: ChatBot from template.yaml, in the terminal
#   scripts/run-local.sh --help
set -euo pipefail
export RUN_LOCAL_STARTED="${EPOCHREALTIME:-$(date +%s.%N)}" RUN_LOCAL_CALLER_DIR="$PWD"
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --no-sam
exec .venv/bin/python -m devtools.cli "$@"
