"""What SQLite's full-text index holds of a note: its words, stemmed, each tagged with its
partition, so that one tenant's notes never weigh in another tenant's ranking.

FTS5's `bm25()` weighs a query term by its document frequency in the whole table. With every
tenant's words in one table, a search returned scores (and an order) that moved with what
*other* partitions said: a tenant could tell from its own results whether, and how often, any
word occurred in other tenants' memories (revision 0013's docstring shows it). Here a term is
indexed as ``<tag><stem>``, the tag a 64-bit hash of the partition, so each partition's terms
are tokens of their own: a term's document frequency counts only its partition's notes, and a
query reads only its partition's doclists (no partition token to intersect with). The
ranking (`memsvc.db.queries.fulltext`) also takes the number of notes from the partition;
what still spans the table is its size: the mean note length of bm25's length normalisation,
and the row count with which FTS5 proposes a store of many partitions' candidates. How much
the store holds, never what it says.

The terms are computed in Python (SQLite calls `sql_terms` from the triggers, so every
connection that writes notes registers it: `register`, called by `memsvc.db.engine` on
connect) by the tokenizer a query's terms come from (`memsvc.text.tokenize.lexical_pieces`,
of which a query's `lexical_parts` are a subset, then `stem`): every word is indexed, stop
words too, so a note's length counts its words as FTS5's own tokenizer did. The table keeps
its own copy of the terms, so a note is removed by rowid, not by recomputing its terms: a
later change of this function never leaves stale postings.

The triggers run inside the write, and on SQLite the write holds the database's one write
lock: a LongMemEval round's terms take most of a millisecond to make, as long as the rest of
its write. So a writer makes the terms of the notes it is about to insert before it takes
the lock (`prepare`, called by `services.writer.Writer.prepare`) and the SQL function finds
them there (`Prepared`). They are a pure function of (partition, text), so a prepared entry
is exactly what the function would compute; one never used (a unit that merged instead) is
evicted by newer ones."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from memsvc.text.tokenize import lexical_pieces, stem

log = logging.getLogger(__name__)

# The SQL function's name, as the triggers of revision 0013 call it.
FUNCTION = "memsvc_fts_terms"


@lru_cache(maxsize=4096)
def partition_tag(partition: str) -> str:
    """``t`` + 16 hex digits of the partition's BLAKE2b hash: letters and digits only, so
    FTS5's unicode61 tokenizer keeps ``<tag><stem>`` one token."""
    return "t" + hashlib.blake2b(partition.encode(), digest_size=8).hexdigest()


def document_terms(partition: str, text: str) -> str:
    """The indexed text of a note of `partition` whose searchable text is `text`."""
    tag = partition_tag(partition)
    return " ".join([tag + stem(p) for p in lexical_pieces(text)])


def query_tokens(partition: str, terms: Iterable[str]) -> list[str]:
    """A query's terms (`services.lexical.query_terms`) as the index holds them, distinct."""
    tag = partition_tag(partition)
    return list(dict.fromkeys(tag + stem(t) for t in terms))


class Prepared:
    """Terms made ahead of the write that inserts them, by (partition, text): a bounded,
    thread-safe map, each entry taken by the first write that uses it. The bound covers the
    notes of many concurrent adds; an entry evicted before its write only means the trigger
    makes its terms itself. At LongMemEval's round length (3 kB of text, 7 kB of terms) a full
    map holds ~20 MB, and entries that no write takes (a unit that merged) are the only ones
    that stay."""

    def __init__(self, size: int = 2048) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, partition: str, texts: Iterable[str]) -> None:
        made = [((partition, t), document_terms(partition, t)) for t in texts]  # outside the lock
        with self._lock:
            for key, terms in made:
                self._items[key] = terms
                self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def take(self, partition: str, text: str) -> str | None:
        with self._lock:
            return self._items.pop((partition, text), None)

    def __len__(self) -> int:
        return len(self._items)


PREPARED = Prepared()


def prepare(partition: str, texts: Iterable[str]) -> None:
    """Make the terms of notes about to be written (see the module docstring)."""
    PREPARED.put(partition, texts)


def sql_terms(partition: Any, text: Any) -> str:
    """`document_terms` for SQLite (made ahead by `prepare` where a writer did). Never raises:
    an exception in a trigger would fail the write; a note whose terms cannot be made is
    stored and simply not found by its words."""
    try:
        partition, text = str(partition), str(text or "")
        ready = PREPARED.take(partition, text)
        return ready if ready is not None else document_terms(partition, text)
    except Exception:  # pragma: no cover - defensive: the tokenizer takes any str
        log.exception("full-text terms of a note could not be made")
        return ""


def register(dbapi_conn: Any) -> None:
    """Make `FUNCTION` callable on a SQLite DB-API connection."""
    dbapi_conn.create_function(FUNCTION, 2, sql_terms, deterministic=True)
