# Sourced by scripts/serve and scripts/test: create ./.venv and install the package into it,
# again only when pyproject.toml changed (idempotent, no prompts).
# Usage: ensure_venv ""        (runtime)   or   ensure_venv "[dev]"   (tests and tools)

ensure_venv() {
    local extras="$1"
    local python="${PYTHON:-python3}"
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "farmer-mailbox needs Python 3.11 or newer (tried: $python). Set PYTHON=/path/to/python3.11." >&2
        exit 2
    fi
    if [ ! -x .venv/bin/python ]; then
        echo "creating .venv ..." >&2
        "$python" -m venv .venv
    fi
    local stamp=".venv/.installed${extras}"
    local want
    want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "installing farmer-mailbox${extras} into .venv ..." >&2
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}" >&2
        echo "$want" > "$stamp"
    fi
}
