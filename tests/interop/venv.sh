# Sourced by tests/interop/run.sh and hadolint.sh: pinned, cached venvs for the interop peers.
#
# interop_venv NAME  ->  prints the venv folder for requirements-NAME.txt, creating it on first use:
#   ${XDG_CACHE_HOME:-~/.cache}/tapline/interop-NAME-<first 16 hex of sha256(requirements file)>
# A changed requirements file (or a file it includes with `-r`) gives a new folder; a folder
# without its `.complete` marker (an interrupted install) is removed and installed again.
# Failures are loud and fatal.

INTEROP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
INTEROP_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tapline"
INTEROP_PYTHON="${INTEROP_PYTHON:-python3}"

# requirements_text FILE: the file followed by every file it includes with `-r`, recursively.
requirements_text() {
  local file="$1" inc
  cat "$file"
  sed -n 's/^-r[[:space:]]*//p' "$file" | while read -r inc; do
    requirements_text "$(dirname "$file")/$inc"
  done
}

interop_venv() {
  local name="$1" req hash dir log
  req="$INTEROP_DIR/requirements-$name.txt"
  [[ -f "$req" ]] || { echo "interop: no $req" >&2; return 1; }
  hash="$(requirements_text "$req" | sha256sum | cut -c1-16)"
  dir="$INTEROP_CACHE/interop-$name-$hash"
  if [[ ! -f "$dir/.complete" ]]; then
    "$INTEROP_PYTHON" -c 'import sys, venv; sys.exit(sys.version_info < (3, 10))' \
      || { echo "interop: $INTEROP_PYTHON >= 3.10 with the venv module is required" >&2; return 1; }
    rm -rf "$dir"
    mkdir -p "$INTEROP_CACHE"
    log="$(mktemp)"
    echo "interop: installing $name into $dir" >&2
    if ! { "$INTEROP_PYTHON" -m venv "$dir" \
        && "$dir/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$req"; } >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      echo "interop: installing $name from $req failed" >&2
      return 1
    fi
    rm -f "$log"
    touch "$dir/.complete"
  fi
  echo "$dir"
}
