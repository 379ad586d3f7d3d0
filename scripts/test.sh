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

step "pytest (unit + integration + the chat page in headless Chromium)"
.venv/bin/python -m pytest

step "sam validate --lint"
.venv-sam/bin/sam validate --lint
step "cfn-lint"
.venv-sam/bin/cfn-lint template.yaml

step "sam build"
# The project's Python 3.13 first on PATH: SAM's python3.13 workflow and the layer Makefile both need it.
PATH="$PWD/.venv/bin:$PATH" .venv-sam/bin/sam build --build-dir .aws-sam/build

step "built layer contents"
layer=.aws-sam/build/SessionLayer/python
[ -d "$layer/chatstate" ] || { echo "built layer has no python/chatstate" >&2; exit 1; }
missing=0
while IFS= read -r source; do
  rel="${source#"$layer"/}"
  pyc="$layer/$(dirname "$rel")/__pycache__/$(basename "$rel" .py).cpython-313.pyc"
  [ -f "$pyc" ] || { echo "no compiled $pyc" >&2; missing=1; }
done < <(find "$layer/chatstate" -name '*.py')
[ "$missing" = 0 ] || exit 1
if find "$layer" -maxdepth 1 \( -name 'botocore*' -o -name 'boto3*' -o -name 's3transfer*' \) | grep -q .; then
  echo "boto3/botocore found in the built layer (they come from the Lambda runtime)" >&2; exit 1
fi
arch="$(sed -n 's/^ *BuildArchitecture: *//p' .aws-sam/build/template.yaml | head -1)"
machine="$([ "$arch" = x86_64 ] && echo x86_64 || echo aarch64)"
compgen -G "$layer/pydantic_core/_pydantic_core.cpython-313-${machine}-linux-gnu.so" >/dev/null ||
  { echo "pydantic_core in the layer is not built for $arch (set LAYER_ARCH, see README)" >&2; exit 1; }
echo "layer OK: $(find "$layer/chatstate" -name '*.pyc' | wc -l) chatstate .pyc files, no boto3/botocore, $arch wheels" >&2

step "all checks passed"
