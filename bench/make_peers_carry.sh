#!/usr/bin/env bash
# Builds .carry/peers, what bench/peers_device.sh needs on the lent GPU machine (nothing can be
# fetched there; one call carries at most 64 MiB with the repo's files):
#   site.tar.xz       memsvc's in-process dependencies and mem0's (mem0ai, qdrant-client,
#                     protobuf < 7 and what they pull) that the GPU image lacks (its list:
#                     /work/.library/device/KINDS.md), for CPython 3.12, unpacked, xz. To stay
#                     under 64 MiB, `openai` and `posthog` are stubs: mem0 builds an OpenAI client
#                     for its LLM but infer=False never calls it; telemetry is off
#                     (MEM0_TELEMETRY=False), so only posthog's import is needed
#   minilm-fp16.tar.xz the bundled MiniLM as fp16 byte planes (bench/carry.py)
#   memsvc.tar.xz     memsvc/ at HEAD (git archive): the device script puts it over the tree's
#                     copy, so edits in flight in the working tree do not travel into the numbers
#   fill.txt.xz       75,000 sentences of this machine (bench.corpus.collect, seed 0, less
#                     LongMemEval's): the messages past LongMemEval's 28,986 distinct ones
# Run from the repo root with the dev venv active:  bash bench/make_peers_carry.sh
set -euo pipefail
DEST=.carry/peers
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$DEST" "$WORK/whl" "$WORK/site/openai" "$WORK/site/posthog"
ver() { python -c "import importlib.metadata as m; print(m.version('$1'))"; }
for pkg in faiss-cpu pydantic pydantic-core annotated-types typing-inspection pydantic-settings \
  python-dotenv SQLAlchemy alembic Mako snowballstemmer lemminflect \
  mem0ai qdrant-client pytz protobuf; do
  python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$WORK/whl" "$pkg==$(ver "$pkg")" 2>&1 | grep -v '^WARNING' || true
done
for w in "$WORK"/whl/*.whl; do
  python -m zipfile -e "$w" "$WORK/site"
done
cat >"$WORK/site/openai/__init__.py" <<'PY'
"""Stub for bench/peers_device.sh: mem0 builds a client at start; infer=False never calls it."""


class OpenAI:
    def __init__(self, *args, **kwargs):
        pass


AzureOpenAI = OpenAI
PY
cat >"$WORK/site/posthog/__init__.py" <<'PY'
"""Stub for bench/peers_device.sh: mem0 imports it; MEM0_TELEMETRY=False never sends."""


class Posthog:
    def __init__(self, *args, **kwargs):
        pass

    def capture(self, *args, **kwargs):
        pass

    def shutdown(self, *args, **kwargs):
        pass
PY
tar -C "$WORK" -cf - site | xz -9 -T0 >"$DEST/site.tar.xz"
[ -f "$DEST/minilm-fp16.tar.xz" ] || python -m bench.carry pack-model "$DEST/minilm-fp16.tar.xz"
git archive --prefix=memsvc-head/ HEAD memsvc | tar -x -C "$WORK"
git rev-parse HEAD >"$WORK/memsvc-head/COMMIT"
tar -C "$WORK" -cf - memsvc-head | xz -9 -T0 >"$DEST/memsvc.tar.xz"
if [ ! -f "$DEST/fill.txt.xz" ]; then
  HF_HUB_OFFLINE=1 python - "$DEST/fill.txt.xz" <<'PY'
import lzma, sys
from bench import corpus
from bench.peers import load
msgs, _, questions, _ = load(10**9)  # every LongMemEval sentence
lme = {m["content"].lower() for m in msgs} | {q.lower() for q in questions}
for text in corpus._chat_texts():  # LongMemEval as corpus splits it (MemoryBank stays)
    lme.update(s.lower() for s in corpus.split_sentences(text))
sents = [s for s in corpus.collect(120_000, chat=True, workers=2) if s.lower() not in lme]
with lzma.open(sys.argv[1], "wt", preset=9) as fh:
    fh.write("\n".join(sents[:75_000]) + "\n")
PY
fi
ls -l "$DEST" "$WORK/whl"
du -sh "$DEST"
