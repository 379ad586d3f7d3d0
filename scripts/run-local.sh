#!/usr/bin/env bash
# Run chatstate on this machine without AWS or Docker (DynamoDB Local + the functions in-process).
#   scripts/run-local.sh                      # serve the chat API on http://127.0.0.1:3000 (Ctrl-C stops everything)
#   scripts/run-local.sh serve --port 8080
#   scripts/run-local.sh demo                 # a scripted Lex conversation + chat API calls
#   scripts/run-local.sh invoke LexFulfillmentFunction -e events/lex_greeting.json
#   scripts/run-local.sh lex [--memory]       # the Lex console's test window: ChatBot from template.yaml, in the terminal
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --no-sam
exec .venv/bin/python -m devtools.local "$@"
