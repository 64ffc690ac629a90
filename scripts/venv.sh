# Sourced by scripts/test and scripts/run: a project virtualenv in .venv, with the given
# requirements file installed, reinstalled only when that file (or requirements.txt, which the
# dev file includes) changes.
ensure_venv() {
    local requirements=$1
    local python=${PYTHON:-python3}
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "error: Python 3.11 or newer is needed as '$python' (set PYTHON=/path/to/python3.11)" >&2
        exit 1
    fi
    if [ ! -x .venv/bin/python ]; then
        echo "Creating .venv with $("$python" --version) ..." >&2
        "$python" -m venv .venv || {
            echo "error: could not create .venv; on Debian/Ubuntu: apt-get install python3-venv" >&2
            exit 1
        }
    fi
    local stamp=".venv/.installed-${requirements//\//_}"
    local wanted
    wanted=$(cat "$requirements" requirements.txt | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
        echo "Installing $requirements into .venv ..." >&2
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
        echo "$wanted" > "$stamp"
    fi
}
