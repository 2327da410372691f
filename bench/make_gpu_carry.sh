#!/usr/bin/env bash
# Builds .carry/gpu, what bench/gpu_device.sh needs on the lent GPU machine (nothing can be
# fetched there; one call carries at most 64 MiB with the repo's files): memsvc's in-process
# dependencies that the GPU image lacks (its list: /work/.library/device/KINDS.md) unpacked
# for CPython 3.12 and xz-compressed, the bundled MiniLM as fp16 byte planes (bench/carry.py), py-spy
# to profile the benchmark there, and the LoCoMo dev file (never committed: .carry/ is git-ignored).
# Run from the repo root with the dev venv active:  [BASE=<commit>] bash bench/make_gpu_carry.sh
set -euo pipefail
DEST=.carry/gpu
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$DEST" "$WORK/whl" "$WORK/site"
# The version installed here, or the newest (py-spy is not a dependency of the venv).
spec() { python -c "import importlib.metadata as m; print('$1==' + m.version('$1'))" 2>/dev/null || echo "$1"; }
for pkg in faiss-cpu pydantic pydantic-core annotated-types typing-inspection pydantic-settings \
  python-dotenv SQLAlchemy alembic Mako lemminflect snowballstemmer ${PYSPY-py-spy}; do
  python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$WORK/whl" "$(spec "$pkg")" 2>&1 | grep -v '^WARNING' || true
done
for w in "$WORK"/whl/*.whl; do
  python -m zipfile -e "$w" "$WORK/site"
done
# py-spy's wheel holds its binary under *.data/scripts: profile the benchmark there.
# PYSPY= (empty) leaves it out when the carry would not fit 64 MiB otherwise.
mkdir -p "$WORK/site/bin"
find "$WORK/site" -path '*.data/scripts/py-spy' -exec mv {} "$WORK/site/bin/" \;
[ ! -f "$WORK/site/bin/py-spy" ] || chmod +x "$WORK/site/bin/py-spy"
tar -C "$WORK" -cf - site | xz -9 -T0 >"$DEST/site.tar.xz"
[ -f "$DEST/minilm-fp16.tar.xz" ] || python -m bench.carry pack-model "$DEST/minilm-fp16.tar.xz"
xz -9 -c ../shared/data/locomo/locomo10_dev5.json >"$DEST/locomo10_dev5.json.xz"
# The memsvc package of a baseline commit (BASE=<commit>), run beside the working tree's in
# the same call so that before and after are timed on the same machine.
if [ -n "${BASE:-}" ]; then git archive "$BASE" memsvc | xz -9 >"$DEST/before-memsvc.tar.xz"; fi
ls -l "$DEST" "$WORK/whl"
