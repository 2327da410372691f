"""Where ingest's time goes (issue 16 item 3): `Memory.add` over LongMemEval sentences
(`bench.peers.load`), 50 messages per add with `wait=True`, against the embedder alone
(memsvc's SentenceTransformerEmbedder, no cache, the same warm model) on two sets of batches:

  messages  the messages' own texts, 50 a batch (the issue's "embedder alone on the same
            batches")
  embedded  exactly the texts ingest handed its embedder, in the same batches: the keys
            (content + keywords, tags, context, facts) and sentence parts that recall searches;
            ingest at 1.0 of this rate would cost nothing beyond its embedding

"The embedder" is memsvc's with its default engine (`embed.documents_engine`: ONNX Runtime
on a CPU since 2026-12-06); the messages are also timed through `SentenceTransformer.encode`
(`documents_engine="encode"`, the engine before), the plain model as its users run it.

Ingest is timed without the profiler on one store, then profiled (cProfile, top entries by
cumulative time) on a second store: the profiler slows Python-heavy code, so its run is not
the rate.

    HF_HUB_OFFLINE=1 python -m bench.ingest_profile [N] [--json OUT]   # N messages, default 3000

`--threads N` sets `embed.torch_threads` (PyTorch's and ONNX Runtime's threads) everywhere, for
runs pinned to N cores of a larger machine; `--model DIR` another copy of the model;
`--no-profile` skips the profiled second pass.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.peers import load
from memsvc import Memory
from memsvc.config import EmbedSettings, Settings
from memsvc.embed.sentence import SentenceTransformerEmbedder

BATCH = 50


EMBED: dict[str, Any] = {}  # embed settings from the command line (--threads, --model)


def store() -> Memory:
    return Memory(
        Settings(data_dir=Path(tempfile.mkdtemp()), llm={"model": "none"}, embed=dict(EMBED))
    )


def ingest(mem: Memory, msgs: list[dict[str, str]]) -> float:
    t0 = time.perf_counter()
    for i in range(0, len(msgs), BATCH):
        mem.add(messages=msgs[i : i + BATCH], user_id="u", wait=True)
    return time.perf_counter() - t0


def recording(mem: Memory) -> list[list[str]]:
    """The batches of texts `mem`'s document embedder is asked for, from now on."""
    batches: list[list[str]] = []
    emb: Any = mem.runtime.embedder
    inner = emb.embed

    def embed(texts: Sequence[str]) -> Any:
        batches.append(list(texts))
        return inner(texts)

    emb.embed = embed
    return batches


def alone(emb: SentenceTransformerEmbedder, batches: list[list[str]]) -> float:
    t0 = time.perf_counter()
    for b in batches:
        emb.embed(b)
    return time.perf_counter() - t0


def main(n: int, out: Path | None, profile: bool = True) -> None:
    msgs = load(n)[0][:n]
    texts = [m["content"] for m in msgs]
    emb = SentenceTransformerEmbedder(EmbedSettings(**EMBED))
    plain = SentenceTransformerEmbedder(EmbedSettings(**EMBED, documents_engine="encode"))
    emb.embed(texts[:BATCH])
    plain.embed(texts[:BATCH])
    # Timed run: embedder alone on the messages, ingest, embedder alone on what ingest embedded
    # (the alone runs around ingest, so a drift in machine load shows in the two).
    msg_batches = [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]
    alone_msgs = alone(emb, msg_batches)
    alone_plain = alone(plain, msg_batches)
    plain.close()
    mem = store()
    mem.add(messages=msgs[:BATCH], user_id="warm-up", wait=True)
    embedded = recording(mem)
    ingest_s = ingest(mem, msgs)
    mem.close()
    alone_embedded = alone(emb, embedded)
    n_embedded = sum(len(b) for b in embedded)
    res = {
        "messages": len(msgs),
        "ingest_s": round(ingest_s, 2),
        "ingest_messages_per_s": round(len(msgs) / ingest_s, 1),
        "alone_messages_s": round(alone_msgs, 2),
        "alone_messages_texts_per_s": round(len(texts) / alone_msgs, 1),
        "documents_engine": getattr(emb, "documents_engine", "encode"),  # older trees: encode
        "alone_messages_encode_s": round(alone_plain, 2),
        "embedded_texts": n_embedded,
        "embedded_batches": len(embedded),
        "embedded_mean_chars": round(sum(len(t) for b in embedded for t in b) / n_embedded, 1),
        "messages_mean_chars": round(sum(len(t) for t in texts) / len(texts), 1),
        "alone_embedded_s": round(alone_embedded, 2),
        "ratio_vs_messages": round(alone_msgs / ingest_s, 3),
        "ratio_vs_embedded": round(alone_embedded / ingest_s, 3),
        "ratio_vs_messages_encode": round(alone_plain / ingest_s, 3),
    }
    print(json.dumps(res, indent=1), flush=True)
    if out is not None:
        out.write_text(json.dumps(res, indent=1))
    if not profile:
        return
    # Profile on a fresh store (same messages).
    mem = store()
    mem.add(messages=msgs[:BATCH], user_id="warm-up", wait=True)
    prof = cProfile.Profile()
    prof.enable()
    ingest(mem, msgs)
    prof.disable()
    mem.close()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", nargs="?", type=int, default=3000)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--model", default=None)
    ap.add_argument("--no-profile", action="store_true")
    args = ap.parse_args()
    if args.threads:
        EMBED["torch_threads"] = args.threads
    if args.model:
        EMBED["model"] = args.model
    main(args.n, args.json, profile=not args.no_profile)
