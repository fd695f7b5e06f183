#!/usr/bin/env bash
# Build a separate virtual environment for the reference package ``heatgeo``.
#
# heatgeo 0.0.1 pins numpy 1.23.5 and scikit-learn 1.2.2, which cannot live in
# skkernel's environment, so bench_heat_geodesic.py runs it in a subprocess
# with this interpreter. Usage:
#
#     bash benchmarks/setup_heatgeo_env.sh [VENV_DIR]   # default /work/heatgeo-venv
#
# Needs Python <= 3.11 (numpy 1.23.5 has no wheels for 3.12+) and a C++
# compiler (s_gd2 is built from its sdist). Exits non-zero when it cannot.
set -euo pipefail
VENV_DIR="${1:-${HEATGEO_VENV:-/work/heatgeo-venv}}"
PYTHON="${HEATGEO_PYTHON:-}"
if [ -z "$PYTHON" ]; then
    for candidate in python3.11 python3.10 python3.9; do
        if command -v "$candidate" >/dev/null 2>&1; then
            PYTHON="$candidate"
            break
        fi
    done
fi
if [ -z "$PYTHON" ]; then
    echo "setup_heatgeo_env: no Python 3.9-3.11 found (numpy 1.23.5 needs one)" >&2
    exit 1
fi
if [ -x "$VENV_DIR/bin/python" ] && "$VENV_DIR/bin/python" -c "import heatgeo" 2>/dev/null; then
    echo "setup_heatgeo_env: $VENV_DIR already has heatgeo"
    exit 0
fi
"$PYTHON" -m venv "$VENV_DIR"
"$VENV_DIR/bin/python" -m pip install --quiet --upgrade pip wheel "setuptools<70"
# numpy first: s_gd2's sdist build imports it.
"$VENV_DIR/bin/python" -m pip install --quiet "numpy==1.23.5" "cython<3"
"$VENV_DIR/bin/python" -m pip install --quiet heatgeo==0.0.1
"$VENV_DIR/bin/python" -c "import heatgeo.embedding; print('heatgeo ready')"
