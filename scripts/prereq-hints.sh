#!/usr/bin/env bash
# How to install each prerequisite on this machine, by distribution: Debian 12/13, Ubuntu 22.04/24.04 (and later),
# macOS, anything else. Sourced by scripts/bootstrap.sh and scripts/test.sh; run it to see the hints:
#   scripts/prereq-hints.sh python|java|npm|chromium [PYTHON_MINOR] [OS_RELEASE_FILE]
# tests/unit/test_prereq_hints.py checks the text per distribution family.

# Prints "<id> <version>" of the running system (or of OS_RELEASE_FILE, else $PREREQ_OS_RELEASE): debian 12,
# ubuntu 24.04, macos, other.
prereq_os() {
  local file="${1:-${PREREQ_OS_RELEASE:-/etc/os-release}}"
  if [ "$(uname -s)" = Darwin ] && [ -z "${1:-}${PREREQ_OS_RELEASE:-}" ]; then echo "macos"; return; fi
  if [ -r "$file" ]; then
    (. "$file"; echo "${ID:-other} ${VERSION_ID:-0}")
  else
    echo "other 0"
  fi
}

# prereq_hint WHAT PYTHON_MINOR [OS_RELEASE_FILE]: one or more lines, each a way to install WHAT.
prereq_hint() {
  local what="$1" minor="${2:-3.13}" os version major
  read -r os version <<<"$(prereq_os "${3:-}")"
  major="${version%%.*}"
  local uv="no root: 'curl -LsSf https://astral.sh/uv/install.sh | sh' then 'uv python install ${minor}' (bootstrap finds it)"
  local pyenv="or pyenv: 'pyenv install ${minor}' (bootstrap finds pyenv's python${minor})"
  case "$what:$os" in
    python:debian)
      if [ "${major:-0}" -ge 13 ] 2>/dev/null; then
        echo "Debian ${version}: 'sudo apt-get install python${minor} python${minor}-venv'"
      else
        echo "Debian ${version} has no python${minor} package; ${uv}"
        echo "${pyenv}"
      fi ;;
    python:ubuntu)
      if [ "${major:-0}" -ge 25 ] 2>/dev/null; then
        echo "Ubuntu ${version}: 'sudo apt-get install python${minor} python${minor}-venv'"
      else
        echo "Ubuntu ${version} has no python${minor} package; ${uv}"
        echo "${pyenv}; or the deadsnakes PPA: 'sudo add-apt-repository ppa:deadsnakes/ppa && sudo apt-get install python${minor} python${minor}-venv'"
      fi ;;
    python:macos) echo "macOS: 'brew install python@${minor}', or ${uv}" ;;
    python:*) echo "${uv}"; echo "${pyenv}" ;;
    java:debian)
      if [ "${major:-0}" -ge 13 ] 2>/dev/null; then
        echo "Debian ${version}: 'sudo apt-get install openjdk-21-jre-headless' (any Java 17 or newer), or set JAVA_HOME"
      else
        echo "Debian ${version}: 'sudo apt-get install openjdk-17-jre-headless', or set JAVA_HOME"
      fi ;;
    java:ubuntu) echo "Ubuntu ${version}: 'sudo apt-get install openjdk-17-jre-headless', or set JAVA_HOME" ;;
    java:macos) echo "macOS: 'brew install openjdk@17', or set JAVA_HOME" ;;
    java:*) echo "any Java 17 or newer (e.g. Eclipse Temurin), then set JAVA_HOME" ;;
    npm:debian | npm:ubuntu) echo "'sudo apt-get install npm'" ;;
    npm:macos) echo "macOS: 'brew install node'" ;;
    npm:*) echo "Node.js with npm (https://nodejs.org)" ;;
    chromium:debian) echo "Debian ${version}: 'sudo apt-get install chromium chromium-driver'" ;;
    chromium:ubuntu)
      echo "Ubuntu ${version} ships Chromium as a snap: 'sudo snap install chromium', then"
      echo "export CHROMIUM_BINARY=/snap/bin/chromium CHROMEDRIVER=/snap/bin/chromium.chromedriver" ;;
    chromium:macos) echo "macOS: 'brew install --cask chromium chromedriver'" ;;
    chromium:*) echo "Chromium and its matching ChromeDriver; point CHROMIUM_BINARY and CHROMEDRIVER at them" ;;
    *) echo "prereq-hints: unknown prerequisite '$what' (python, java, npm, chromium)" >&2; return 2 ;;
  esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  [ $# -ge 1 ] || { echo "usage: scripts/prereq-hints.sh python|java|npm|chromium [PYTHON_MINOR] [OS_RELEASE_FILE]" >&2; exit 2; }
  prereq_hint "$@"
fi
