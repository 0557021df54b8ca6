#!/usr/bin/env bash
# Colab-like environment: run every notebook with the library versions Google Colab ships.
#
# 1. builds a fresh virtual environment in .venv-colab with Colab's Python where this
#    machine has it (3.13; else python3, with a warning),
# 2. installs the versions pinned in envs/colab.txt (what Colab preinstalls), then the
#    course package as the notebooks' install cell does on Colab (a plain, non-editable
#    pip install), under the same constraints: if the package asked for a newer release of
#    a pinned library, pip would fail here instead of upgrading it,
# 3. checks that every pinned package has exactly its pinned version,
# 4. runs the notebooks and solutions in fast mode, and the exercise notebooks up to their
#    first check, with that environment's python.
#
# Usage: tools/colab_env.sh     (from anywhere; about 3 GB of downloads on a cold pip cache)
#   COLAB_PYTHON=/path/to/python3.13 tools/colab_env.sh   picks the interpreter by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CONSTRAINTS=envs/colab.txt
VENV=.venv-colab
COLAB_PYTHON_VERSION=3.13  # Colab's default runtime since 2026-08-25 (see envs/colab.txt)

START=$SECONDS
PHASE_START=$SECONDS
TIMINGS=()
phase() {  # phase "name": print a banner; closes the previous phase's clock
    PHASE_START=$SECONDS
    echo
    echo "=== colab-env: $1"
}
phase_done() {
    local took=$((SECONDS - PHASE_START))
    TIMINGS+=("$(printf '%-40s %5ds' "$1" "$took")")
    echo "=== colab-env: $1 took ${took}s"
}

# ------------------------------------------------------------------ interpreter
is_wanted() {  # is_wanted CMD: does CMD run and is it Python $COLAB_PYTHON_VERSION?
    "$1" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$COLAB_PYTHON_VERSION' else 1)" \
        >/dev/null 2>&1
}
find_python() {
    if [[ -n "${COLAB_PYTHON:-}" ]]; then
        echo "$COLAB_PYTHON"
        return
    fi
    local candidate
    for candidate in "python$COLAB_PYTHON_VERSION" \
                     "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$COLAB_PYTHON_VERSION"*/bin/python"$COLAB_PYTHON_VERSION" \
                     /usr/bin/python"$COLAB_PYTHON_VERSION" /usr/local/bin/python"$COLAB_PYTHON_VERSION"; do
        if is_wanted "$candidate"; then
            echo "$candidate"
            return
        fi
    done
    echo "python3"
}

phase "build $VENV from $CONSTRAINTS"
PYTHON=$(find_python)
if ! is_wanted "$PYTHON"; then
    echo "WARNING: no Python $COLAB_PYTHON_VERSION on this machine (Colab's); using $PYTHON:" \
         "$("$PYTHON" --version 2>&1). Set COLAB_PYTHON to a $COLAB_PYTHON_VERSION interpreter to match Colab." >&2
fi
echo "interpreter: $PYTHON ($("$PYTHON" -c 'import sys; print(sys.version.split()[0], sys.executable)'))"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
PY="$ROOT/$VENV/bin/python"
export VIRTUAL_ENV="$ROOT/$VENV" PATH="$ROOT/$VENV/bin:$PATH"
unset PYTHONPATH PYTHONHOME

# every name pinned in the constraints file, i.e. what Colab has before the install cell runs
mapfile -t PINNED < <(sed -n -E 's/^([A-Za-z0-9._-]+)==.*/\1/p' "$CONSTRAINTS")
if [[ ${#PINNED[@]} -eq 0 ]]; then
    echo "ERROR: no name==version pins found in $CONSTRAINTS" >&2
    exit 1
fi
echo "pinned: ${PINNED[*]}"
"$PY" -m pip install --progress-bar off -c "$CONSTRAINTS" "${PINNED[@]}"
phase_done "install Colab's pinned versions"

phase "install the course package (as the notebooks' install cell does on Colab)"
# non-editable, like `pip install "ganlab @ git+..."` on Colab; the dev extra brings pytest, nbval and the rest
"$PY" -m pip install --progress-bar off -c "$CONSTRAINTS" ".[dev]"
phase_done "install ganlab[dev]"

# ------------------------------------------------------------------ versions
phase "check installed versions against $CONSTRAINTS"
"$PY" - "$CONSTRAINTS" "$COLAB_PYTHON_VERSION" <<'EOF'
import re
import sys
from importlib.metadata import PackageNotFoundError, version

constraints, colab_python = sys.argv[1], sys.argv[2]
here = "%d.%d" % sys.version_info[:2]
print(f"{'python':<20} {sys.version.split()[0]:<14} (Colab: {colab_python}{'' if here == colab_python else ', NOT MATCHED'})")
pins = {}
for line in open(constraints, encoding="utf-8"):
    m = re.match(r"^([A-Za-z0-9._-]+)==(\S+)", line.strip())
    if m:
        pins[m.group(1)] = m.group(2)
bad = []
for name, want in pins.items():
    try:
        got = version(name)
    except PackageNotFoundError:
        got = None
    ok = got is not None and got.split("+")[0] == want
    print(f"{name:<20} {got or 'not installed':<14} (pinned {want}){'' if ok else '   <-- MISMATCH'}")
    if not ok:
        bad.append(f"{name}: pinned {want}, installed {got or 'nothing'}")
for name in ("ganlab", "torchmetrics", "nbval"):  # not pinned: what the install brought
    try:
        print(f"{name:<20} {version(name):<14} (not pinned)")
    except PackageNotFoundError:
        bad.append(f"{name}: not installed")
import torch  # noqa: E402  the build actually loaded, and what it runs on
print(f"torch.__version__    {torch.__version__}, CUDA available: {torch.cuda.is_available()}")
if bad:
    sys.exit("ERROR: the environment does not match " + constraints + ":\n  " + "\n  ".join(bad))
print("every pinned package has its pinned version")
EOF
"$PY" -m pip check
phase_done "check versions"

# ------------------------------------------------------------------ notebooks
export GANLAB_FAST=1 GANLAB_DOWNLOAD=0  # fast mode; offline, as everywhere but on Colab
export PYDEVD_DISABLE_FILE_VALIDATION=1  # quiets debugpy's frozen-modules note at each kernel start
phase "notebooks and solutions in fast mode"
"$PY" -m pytest --nbval-lax notebooks solutions
phase_done "notebooks + solutions (nbval-lax)"

phase "exercise notebooks up to their first check"
"$PY" -m pytest tests/test_exercises.py -k first_check
phase_done "exercises up to the first check"

echo
echo "=== colab-env: timings"
printf '%s\n' "${TIMINGS[@]}"
printf '%-40s %5ds\n' "total" "$((SECONDS - START))"
echo "=== colab-env: all passed with Colab's versions (Python $("$PY" -c 'import sys; print(sys.version.split()[0])'))"
