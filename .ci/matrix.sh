#!/usr/bin/env bash
# CI matrix: the test suite on Python 3.10 and 3.13 (when this machine has them), then ruff on the project.
#
# For each version found (pyenv's /root/.pyenv/versions/3.X.*, else python3.X on PATH) a venv is created
# (once) under .cache/ci-venvs/py3.X, `.[test]` is installed into it, and `python -m pytest -q -x` runs.
# A version that is absent is skipped with a message. Then `ruff check .` runs with the main venv.
# Exit status: non-zero if any test run or ruff fails. Timings are printed per step.
#
#   .ci/matrix.sh                 # 3.10 and 3.13
#   VERSIONS="3.12" .ci/matrix.sh # other versions
#   PYTEST_ARGS="-k robustness" .ci/matrix.sh
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

for v in $VERSIONS; do
  py=$(find_python "$v")
  if [ -z "$py" ]; then
    echo "matrix: Python $v not found on this machine: skipped"
    continue
  fi
  venv="$VENVS/py$v"
  start=$(date +%s)
  if [ ! -x "$venv/bin/python" ]; then
    "$py" -m venv "$venv" || { echo "matrix: cannot create a venv for $py"; status=1; continue; }
  fi
  if ! { "$venv/bin/python" -m pip install -q --upgrade pip && \
         "$venv/bin/python" -m pip install -q -e '.[test]' hypothesmith; } ; then
    echo "matrix: Python $v: install failed"; status=1; continue
  fi
  installed=$(date +%s)
  echo "matrix: Python $v ($("$venv/bin/python" -V 2>&1)): installed in $((installed - start))s; running pytest"
  # shellcheck disable=SC2086
  "$venv/bin/python" -m pytest -q -x -p no:cacheprovider ${PYTEST_ARGS:-}
  rc=$?
  end=$(date +%s)
  echo "matrix: Python $v: pytest exit $rc in $((end - installed))s (total $((end - start))s)"
  [ $rc -eq 0 ] || status=1
done

# Lint the project itself with the main venv's ruff (config: [tool.ruff] in pyproject.toml).
if [ -x "$MAIN_PY" ]; then
  start=$(date +%s)
  if "$MAIN_PY" -m ruff --version >/dev/null 2>&1; then
    "$MAIN_PY" -m ruff check .
    rc=$?
  else
    echo "matrix: ruff is not installed in the main venv ($MAIN_PY -m pip install ruff)"; rc=1
  fi
  echo "matrix: ruff check exit $rc in $(( $(date +%s) - start ))s"
  [ $rc -eq 0 ] || status=1
else
  echo "matrix: no main venv at $MAIN_PY: ruff skipped"
fi
exit $status
