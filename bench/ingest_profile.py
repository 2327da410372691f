"""Where ingest's time goes (issue 16 item 3): cProfile of `Memory.add` over LongMemEval
sentences (`bench.peers.load`), 50 messages per add with `wait=True`, after the embedder alone
(memsvc's SentenceTransformerEmbedder, no cache) on the same batches; prints both rates, their
ratio and the top of the profile by cumulative time.

    HF_HUB_OFFLINE=1 python -m bench.ingest_profile [N]      # N messages, default 3000
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

from bench.peers import load
from memsvc import Memory
from memsvc.config import EmbedSettings, Settings
from memsvc.embed.sentence import SentenceTransformerEmbedder

BATCH = 50


def main(n: int) -> None:
    msgs = load(n)[0][:n]
    texts = [m["content"] for m in msgs]
    mem = Memory(Settings(data_dir=Path(tempfile.mkdtemp()), llm={"model": "none"}))
    mem.add(messages=msgs[:BATCH], user_id="warm-up", wait=True)
    emb = SentenceTransformerEmbedder(EmbedSettings())
    emb.embed(texts[:BATCH])
    t0 = time.perf_counter()
    for i in range(0, len(texts), BATCH):
        emb.embed(texts[i : i + BATCH])
    alone = time.perf_counter() - t0
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for i in range(0, len(msgs), BATCH):
        mem.add(messages=msgs[i : i + BATCH], user_id="u", wait=True)
    prof.disable()
    ingest = time.perf_counter() - t0
    print(
        f"embedder alone {len(texts) / alone:.1f} texts/s; ingest {len(msgs) / ingest:.1f} "
        f"messages/s; ratio {alone / ingest:.2f}"
    )
    pstats.Stats(prof).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
