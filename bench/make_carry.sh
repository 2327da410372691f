#!/usr/bin/env bash
# Builds .carry/dev, what bench/ann_device.sh needs on the lent GPU machine (nothing can be
# fetched there, and one call carries at most 64 MiB, the repo's tracked files included):
#   site.tar.xz          FAISS + pydantic for CPython 3.12, unpacked and xz-compressed (11 MB;
#                        the wheels are 21.6 MB, mostly OpenBLAS under zip's deflate)
#   minilm-fp16.tar.xz   the bundled all-MiniLM-L6-v2, weights cast to fp16, as byte planes
#   sentences.txt.xz     this machine's text that the GPU machine lacks (bench/carry.py)
#   shared_data.tar.xz   eval/data, compressed (the call moves eval/data out of the tree)
# Run from the repo root with the dev venv active:  bash bench/make_carry.sh
set -euo pipefail
DEST=.carry/dev
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$DEST" "$WORK/whl" "$WORK/site"
ver() { python -c "import importlib.metadata as m; print(m.version('$1'))"; }
for pkg in faiss-cpu pydantic pydantic-core annotated-types typing-inspection; do
  python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$WORK/whl" "$pkg==$(ver "$pkg")" 2>&1 | grep -v '^WARNING' || true
done
for w in "$WORK"/whl/*.whl; do
  python -m zipfile -e "$w" "$WORK/site"
done
tar -C "$WORK" -cf - site | xz -9 -T0 >"$DEST/site.tar.xz"
tar -C eval -cf - data | xz -9 -T0 >"$DEST/shared_data.tar.xz"
python -m bench.carry pack-model "$DEST/minilm-fp16.tar.xz"
python -m bench.carry sentences "$DEST/sentences.txt.xz"
ls -l "$DEST"
