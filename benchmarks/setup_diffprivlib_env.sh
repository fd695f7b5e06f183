#!/usr/bin/env bash
# Build a separate virtual environment for the peer package ``diffprivlib``.
#
# diffprivlib 0.6 needs scikit-learn <= 1.7, while skkernel's environment
# has a newer one, so bench_private_kde.py runs diffprivlib's DP
# LogisticRegression and GaussianNB in a subprocess with this interpreter.
# Usage:
#
#     bash benchmarks/setup_diffprivlib_env.sh [VENV_DIR]   # default /work/venv-diffprivlib
#
# Needs Python >= 3.9 and access to a package index; wheels only (no
# compiler). Exits non-zero when it cannot.
set -euo pipefail
VENV_DIR="${1:-${DIFFPRIVLIB_VENV:-/work/venv-diffprivlib}}"
PYTHON="${DIFFPRIVLIB_PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "setup_diffprivlib_env: $PYTHON not found" >&2
    exit 1
fi
if [ -x "$VENV_DIR/bin/python" ] && "$VENV_DIR/bin/python" -c "import diffprivlib" 2>/dev/null; then
    echo "setup_diffprivlib_env: $VENV_DIR already has diffprivlib"
    exit 0
fi
"$PYTHON" -m venv "$VENV_DIR"
"$VENV_DIR/bin/python" -m pip install --quiet --upgrade pip
"$VENV_DIR/bin/python" -m pip install --quiet --only-binary=:all: \
    "diffprivlib==0.6.*" "scikit-learn==1.7.2" numpy
"$VENV_DIR/bin/python" -c "import diffprivlib, sklearn; print('diffprivlib', diffprivlib.__version__, 'scikit-learn', sklearn.__version__, 'ready')"
