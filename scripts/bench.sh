#!/usr/bin/env bash
# Runs every benchmark (store, conversation list/export/erase, Lex function, chat function, cold start, DynamoDB
# faults, run-local's time to first answer) and prints the Markdown tables of docs/benchmarks.md.
# Needs no AWS: DynamoDB Local is started and stopped by the benchmarks themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --no-sam
export PYTHONPATH="layers/chatstate:functions/lex_fulfillment:functions/agent_chat:."
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
for bench in bench_store bench_conversations bench_lex bench_chat bench_cold bench_faults bench_first_answer; do
  printf '\n## %s\n\n' "$bench"
  .venv/bin/python -m "benchmarks.$bench"
done
