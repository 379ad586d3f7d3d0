#!/usr/bin/env bash
# Runs every benchmark (store, conversation list/export/erase, Lex function, chat function, cold start, DynamoDB
# faults, run-local's time to first answer, Strands session managers) and prints the Markdown tables of
# docs/benchmarks.md and docs/strands.md.
# Needs no AWS: DynamoDB Local is started and stopped by the benchmarks themselves.
#   scripts/bench.sh            # everything
#   scripts/bench.sh strands    # only the Strands session managers (docs/strands.md)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --no-sam
export PYTHONPATH="layers/chatstate:functions/lex_fulfillment:functions/agent_chat:functions/strands_agent:."
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
if [ "${1:-}" != "strands" ]; then
  for bench in bench_store bench_conversations bench_lex bench_chat bench_cold bench_faults bench_first_answer; do
    printf '\n## %s\n\n' "$bench"
    .venv/bin/python -m "benchmarks.$bench"
  done
fi

# The Strands peers (benchmarks/peers.txt) go into a bench-only venv that sees .venv's packages through a .pth file:
# they never enter .venv, the layer or the functions.
if [ ! -x .venv-bench/bin/python ]; then
  .venv/bin/python -m venv .venv-bench
fi
bench_site="$(.venv-bench/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > "$bench_site/chatstate-dev.pth"
.venv-bench/bin/python -m pip install --quiet --disable-pip-version-check -r benchmarks/peers.txt
printf '\n## bench_strands\n\n'
.venv-bench/bin/python -m benchmarks.bench_strands
