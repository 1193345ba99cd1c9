#!/usr/bin/env bash
# CI matrix: the test suite on Python 3.10 and 3.13 (when this machine has them), and ruff on the project.
#
#   .ci/matrix.sh install   # a venv per version under .cache/ci-venvs/py3.X with `.[test]` (once)
#   .ci/matrix.sh test      # `python -m pytest -q` in each venv that was installed
#   .ci/matrix.sh lint      # `ruff check .` with the main venv (config: [tool.ruff] in pyproject.toml)
#   .ci/matrix.sh           # all three
#   VERSIONS="3.12" .ci/matrix.sh ; PYTEST_ARGS="-k robustness" .ci/matrix.sh test
#
# Interpreters: pyenv's /root/.pyenv/versions/3.X.*, else python3.X on PATH; a version that is absent
# is skipped with a message. Exit status: non-zero if an install, a test run or ruff fails.
set -uo pipefail
cd "$(dirname "$0")/.."

VERSIONS=${VERSIONS:-"3.10 3.13"}
VENVS=.cache/ci-venvs
MAIN_PY=${MAIN_PY:-.venv/bin/python}
status=0
mkdir -p "$VENVS"

find_python() {  # the newest interpreter of version $1, or nothing
  local v=$1 cand
  cand=$(ls -d /root/.pyenv/versions/"$v".*/bin/python"$v" 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$cand" ] && "$cand" -c 'import sys' >/dev/null 2>&1; then echo "$cand"; return; fi
  cand=$(command -v "python$v" 2>/dev/null) || return 0
  # a pyenv shim for a version that is not installed fails here
  if "$cand" -c 'import sys' >/dev/null 2>&1; then echo "$cand"; fi
}

install() {
  for v in $VERSIONS; do
    py=$(find_python "$v")
    if [ -z "$py" ]; then echo "matrix: Python $v not found on this machine: skipped"; continue; fi
    venv="$VENVS/py$v"
    start=$(date +%s)
    rm -f "$venv/.installed"
    if [ ! -x "$venv/bin/python" ]; then
      "$py" -m venv "$venv" || { echo "matrix: cannot create a venv for $py"; status=1; continue; }
    fi
    if "$venv/bin/python" -m pip install -q --upgrade pip && "$venv/bin/python" -m pip install -q -e '.[test]'; then
      touch "$venv/.installed"
      echo "matrix: Python $v ($("$venv/bin/python" -V 2>&1)): installed in $(( $(date +%s) - start ))s"
    else
      echo "matrix: Python $v: install failed"; status=1
    fi
  done
}

run_tests() {
  for v in $VERSIONS; do
    venv="$VENVS/py$v"
    if [ ! -f "$venv/.installed" ]; then
      if [ -n "$(find_python "$v")" ]; then echo "matrix: Python $v: not installed"; status=1; fi
      continue
    fi
    start=$(date +%s)
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pytest -q -p no:cacheprovider ${PYTEST_ARGS:-}
    rc=$?
    echo "matrix: Python $v: pytest exit $rc in $(( $(date +%s) - start ))s"
    [ $rc -eq 0 ] || status=1
  done
}

lint() {
  if ! "$MAIN_PY" -m ruff --version >/dev/null 2>&1; then
    echo "matrix: ruff is not installed in the main venv ($MAIN_PY -m pip install ruff)"; status=1; return
  fi
  "$MAIN_PY" -m ruff check . || status=1
}

case "${1:-all}" in
  install) install ;;
  test) run_tests ;;
  lint) lint ;;
  all) install; run_tests; lint ;;
  *) echo "usage: $0 [install|test|lint|all]"; exit 2 ;;
esac
exit $status
