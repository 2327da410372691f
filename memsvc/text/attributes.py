"""Note attributes without an LLM, and `AttributeWorkers` to compute many at once.

The LLM path (`memsvc.llm.tasks.memorize`) fills the same fields when configured; these
heuristics are the fallback and the `llm = none` behaviour.

Why `AttributeWorkers`: without an LLM, a note's keyphrases, tags, facts and slots come from
pure-Python text heuristics (`offline_attributes` below): 1.3 ms on one core for a LongMemEval
unit of 1,500 characters (3.8 ms before 2026-12-07, when they were two fifths of an add's CPU
time with embedding on a GPU; bench/attributes.py, bench/README.md "GPU ingest"). Python
threads share one interpreter lock, so concurrent adds cannot run them side by side; worker
processes can (`ingest.cpu_workers`). They are pure functions of (content, role, previous
message, extractor), so a bounded memo (`ingest.attribute_memo`) also answers texts seen
again: the same message sent to several scopes, a re-ingested conversation, "ok thanks!".

Results are identical with or without workers and memo (tests/text/test_attributes.py).
Workers are spawned, not forked: the parent may hold CUDA, threads and open databases.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context

from memsvc.text.facts import extract_facts
from memsvc.text.keyphrases import KeyphraseMethod, keyphrases, make_tags
from memsvc.text.slots import extract_slots
from memsvc.text.tokenize import sentence_spans

log = logging.getLogger(__name__)

MAX_KEYWORDS = 8
MAX_TAGS = 5
MAX_FACTS = 5
REPLY_CONTEXT_CHARS = 160


@dataclass
class Attributes:
    keywords: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    context: str = ""
    facts: list[str] = field(default_factory=list)
    slots: list[list[str]] = field(default_factory=list)


def offline_attributes(
    content: str,
    role: str | None,
    *,
    previous: str | None = None,
    method: KeyphraseMethod = "builtin",
) -> Attributes:
    """Attributes of one note from its text; `previous` is the turn it answers, if any;
    `method` is the keyphrase extractor (the `ingest.keyphrases` setting)."""
    # The agent's own thoughts read like assistant turns ("I recommended..."), not the user's.
    speaker = "assistant" if role in {"assistant", "agent"} else "user"
    # Keyphrases, facts and slots all read the text's sentences: split it once.
    spans = sentence_spans(content)
    keywords = keyphrases(content, k=MAX_KEYWORDS, method=method, spans=spans)
    tags = make_tags(content, keywords, k=MAX_TAGS)
    facts = extract_facts(content, role=speaker, max_facts=MAX_FACTS, spans=spans)
    slots = (
        [[s.name, s.value] for s in extract_slots(content, role=speaker, spans=spans)]
        if speaker == "user"
        else []
    )
    context = ""
    if role == "assistant" and previous:
        # Assistant replies are rarely self-contained ("Yes, about 7 days."): the question
        # they answer is what makes them findable.
        context = "Reply to: " + _clip(previous, REPLY_CONTEXT_CHARS)
    return Attributes(keywords=keywords, tags=tags, context=context, facts=facts, slots=slots)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# (content, role, previous message, keyphrase extractor)
Request = tuple[str, str | None, str | None, KeyphraseMethod]

# Below this many texts to compute, one add does them itself: handing a few short texts to
# another process costs more (pickling, a pipe round trip) than computing them.
MIN_PARALLEL = 4


def compute(req: Request) -> Attributes:
    content, role, previous, method = req
    return offline_attributes(content, role, previous=previous, method=method)


def _compute_many(reqs: list[Request]) -> list[Attributes]:
    return [compute(r) for r in reqs]


def _canonical(req: Request) -> Request:
    """The request as the memo keys it: the previous message only shapes an assistant
    reply's context, so a user's message is the same request whatever came before it."""
    content, role, previous, method = req
    return (content, role, previous if role == "assistant" else None, method)


def _warm() -> None:
    """Loads a worker's lazily read tables (inflections, lemmas) before real work comes."""
    compute(("I moved to Lisbon and started running every morning.", "user", None, "builtin"))


def _copy(a: Attributes) -> Attributes:
    # Callers own what they get: a unit's lists may be edited later (LLM enrichment), and
    # the memo's entry must not change with them.
    return Attributes(
        keywords=list(a.keywords),
        tags=list(a.tags),
        context=a.context,
        facts=list(a.facts),
        slots=[list(s) for s in a.slots],
    )


class AttributeWorkers:
    """`compute_many(requests)` = `[compute(r) for r in requests]`, faster. Thread-safe; the
    worker processes start at the first call that needs them and stop at `close()`."""

    def __init__(self, processes: int = 0, memo: int = 0) -> None:
        if processes < 0 or memo < 0:
            raise ValueError("processes and memo must be >= 0")
        self.processes = processes
        self.memo_size = memo
        self._memo: OrderedDict[Request, Attributes] = OrderedDict()
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False
        # Counters for tests and benchmarks.
        self.hits = 0
        self.computed = 0
        self.sent = 0

    def compute_many(self, reqs: list[Request]) -> list[Attributes]:
        reqs = [_canonical(r) for r in reqs]
        found: dict[Request, Attributes] = {}
        with self._lock:
            for r in reqs:
                a = self._memo.get(r)
                if a is not None:
                    self._memo.move_to_end(r)
                    found[r] = a
            self.hits += sum(1 for r in reqs if r in found)
        missing = list(dict.fromkeys(r for r in reqs if r not in found))
        if missing:
            for r, a in zip(missing, self._run(missing), strict=True):
                found[r] = a
            self._remember(missing, found)
        return [_copy(found[r]) for r in reqs]

    def _run(self, reqs: list[Request]) -> list[Attributes]:
        with self._lock:
            self.computed += len(reqs)
        pool = self._workers() if len(reqs) >= MIN_PARALLEL else None
        if pool is None:
            return _compute_many(reqs)
        # One chunk per worker (at least MIN_PARALLEL texts each): an add's texts are spread
        # over the idle workers, and concurrent adds queue their chunks behind each other.
        n = min(self.processes, len(reqs) // MIN_PARALLEL)
        chunks = [reqs[i::n] for i in range(n)]
        try:
            parts = list(pool.map(_compute_many, chunks))
        except (BrokenProcessPool, RuntimeError):
            # A worker died (killed, out of memory), or close() ran meanwhile: this add
            # computes its texts itself and the next one starts a fresh pool (if not closed).
            log.warning("attribute worker pool broke; computing in this process")
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False)
            return _compute_many(reqs)
        with self._lock:
            self.sent += len(reqs)
        results: list[Attributes] = [Attributes()] * len(reqs)  # every slot overwritten
        for i, part in enumerate(parts):
            results[i::n] = part
        return results

    def _remember(self, reqs: list[Request], found: dict[Request, Attributes]) -> None:
        if not self.memo_size:
            return
        with self._lock:
            for r in reqs:
                self._memo[r] = found[r]
                self._memo.move_to_end(r)
            while len(self._memo) > self.memo_size:
                self._memo.popitem(last=False)

    def _workers(self) -> ProcessPoolExecutor | None:
        if not self.processes or self._closed:
            return None
        with self._lock:
            if self._pool is None and not self._closed:
                self._pool = ProcessPoolExecutor(self.processes, mp_context=get_context("spawn"))
                for _ in range(self.processes):
                    self._pool.submit(_warm)
            return self._pool

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
