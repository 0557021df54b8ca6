#!/usr/bin/env bash
# The browser test of the course's widgets (tests/browser): JupyterLab runs a chapter in fast mode, headless Chromium
# opens it, and the test moves a slider of its widget. CI runs this after the main test command, from the repository
# root, in the activated virtual environment that has the package installed with .[dev]:
#
#     source .venv/bin/activate && tools/browser_test.sh
#
# It installs what the ordinary test environment leaves out (Chromium from Debian, as root, when /usr/bin/chromium
# is missing; the browser extra of the package), then runs the test. A skipped test fails the script
# (GANLAB_BROWSER_REQUIRED=1). Screenshots land in test-artifacts/browser/.
set -euo pipefail

cd "$(dirname "$0")/.."
if [[ -z "${VIRTUAL_ENV:-}" ]]; then
    echo "browser_test.sh: activate the project's virtual environment first (source .venv/bin/activate)" >&2
    exit 2
fi

started=$SECONDS
if [[ ! -x /usr/bin/chromium ]]; then
    echo "== installing Chromium from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null  # (its Debian wrapper script complains on stderr about a test it runs)
echo "== installing the browser extra"
python -m pip install -q -e ".[browser]"
installed=$SECONDS
echo "== install took $((installed - started)) s"

mkdir -p test-artifacts/browser
echo "== running tests/browser"
status=0
GANLAB_BROWSER_REQUIRED=1 python -m pytest tests/browser -m browser -v -s -rs -p no:cacheprovider --durations=5 \
    || status=$?
echo "== test took $((SECONDS - installed)) s (install $((installed - started)) s); screenshots in test-artifacts/browser/"
ls -l test-artifacts/browser/ || true
exit "$status"
