#!/usr/bin/env bash
# Everything CI checks, in order: lint, tests (unit + integration on DynamoDB Local), template checks, sam build,
# and the built layer's contents. Fails on the first error.
set -euo pipefail
cd "$(dirname "$0")/.."
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"

step() { printf '\n==> %s\n' "$*" >&2; }

step "bootstrap"
# The chat page test drives a real headless Chromium: say what to install now, not after the other tests.
if ! { [ -n "${CHROMIUM_BINARY:-}" ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null; } ||
   ! { [ -n "${CHROMEDRIVER:-}" ] || command -v chromedriver >/dev/null; }; then
  echo "test.sh: the chat page test needs Chromium and its matching ChromeDriver. Install them:" >&2
  echo "  Debian/Ubuntu: sudo apt-get install chromium chromium-driver" >&2
  echo "  macOS: brew install --cask chromium chromedriver   (or set CHROMIUM_BINARY and CHROMEDRIVER)" >&2
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
.venv/bin/python -m pytest

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
