# Shared by scripts/serve and scripts/test: create .venv and install the project
# with the hashed lock of its install set (requirements/default.txt, or
# requirements/<extras>.txt) when pyproject.toml or that lock changed since the
# last install. A lock that no longer matches pyproject.toml stops here: run scripts/lock.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
extras="${1:-}"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "VisioVox needs Python 3.11 or newer ($python is $("$python" --version 2>&1))" >&2
  exit 1
fi
lock="requirements/${extras:-default}.txt"
"$python" scripts/lock --check "$lock"
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.visiovox-installed${extras:+-$extras}"
want="$(cat pyproject.toml "$lock" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # Exactly the locked versions, every file checked against its hash; then the
  # project itself, whose dependencies the lock already holds.
  .venv/bin/python -m pip install --quiet --no-deps --require-hashes -r "$lock"
  .venv/bin/python -m pip install --quiet --no-deps -e .
  echo "$want" > "$stamp"
fi
