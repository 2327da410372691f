"""Incremental decoding of a JSON array (or a stream of JSON values) from a file.

The standard library has no streaming parser, so we read the file in chunks and let
``json.JSONDecoder.raw_decode`` decode one element at a time from a bytes-decoded text
buffer. Peak memory is about one element plus one chunk, never the whole file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_WS = " \t\r\n"
# A decode error this close to the end of the buffer may just mean "element not complete
# yet" (a literal, number or escape cut by the chunk boundary): read more and retry.
_TAIL = 32


class JSONStreamError(ValueError):
    """Malformed JSON; the message names the file, element index and (if found) its id."""


class _Reader:
    def __init__(self, path: Path, chunk_size: int) -> None:
        self.path = path
        self.fh = path.open("r", encoding="utf-8")
        self.chunk = chunk_size
        self.buf = ""
        self.pos = 0
        self.eof = False

    def more(self, at_least: int = 0) -> bool:
        """Append a chunk (larger when an element outgrows the buffer); False at EOF."""
        if self.eof:
            return False
        if self.pos > 0:  # drop what has been consumed before growing
            self.buf = self.buf[self.pos :]
            self.pos = 0
        data = self.fh.read(max(self.chunk, at_least))
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def skip_ws(self) -> str:
        """Skip whitespace; return the next character ('' at EOF) without consuming it."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def close(self) -> None:
        self.fh.close()


def _where(path: Path, index: int, text: str, id_pattern: re.Pattern[bytes] | None) -> str:
    where = f"{path.name}: record {index}"
    if id_pattern is not None:
        m = id_pattern.search(text[:20000].encode("utf-8", "replace"))
        if m:
            where += f" (question_id={m.group(1).decode('utf-8', 'replace')!r})"
    return where


def iter_json_values(
    path: Path, *, chunk_size: int = 1 << 20, id_pattern: re.Pattern[bytes] | None = None
) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, value)`` for each element of a top-level JSON array, or for each
    value of a whitespace-separated stream (JSON Lines)."""
    decoder = json.JSONDecoder()
    r = _Reader(path, chunk_size)
    try:
        first = r.skip_ws()
        if first == "":
            raise JSONStreamError(f"{path.name}: empty file")
        in_array = first == "["
        if in_array:
            r.pos += 1
        index = 0
        while True:
            c = r.skip_ws()
            if in_array and c == "]":
                r.pos += 1
                if r.skip_ws() != "":
                    raise JSONStreamError(f"{path.name}: trailing data after the array")
                return
            if c == "":
                if in_array:
                    raise JSONStreamError(
                        f"{path.name}: truncated after {index} record(s) (no closing ']')"
                    )
                return
            value, end = _decode_one(decoder, r, path, index, id_pattern)
            yield index, value
            index += 1
            r.pos = end
            if in_array:
                c = r.skip_ws()
                if c == ",":
                    r.pos += 1
                elif c not in ("]", ""):
                    where = _where(path, index, r.buf[r.pos :], id_pattern)
                    raise JSONStreamError(f"{where}: expected ',' or ']' before it, got {c!r}")
    finally:
        r.close()


def _decode_one(
    decoder: json.JSONDecoder,
    r: _Reader,
    path: Path,
    index: int,
    id_pattern: re.Pattern[bytes] | None,
) -> tuple[Any, int]:
    while True:
        try:
            return decoder.raw_decode(r.buf, r.pos)
        except json.JSONDecodeError as e:
            # Retry with more data only if the error could be a chunk boundary; reading
            # size doubles with the pending element, so a long element costs O(n) overall.
            incomplete = e.pos >= len(r.buf) - _TAIL or e.msg.startswith("Unterminated string")
            if incomplete and r.more(at_least=len(r.buf) - r.pos):
                continue
            where = _where(path, index, r.buf[r.pos :], id_pattern)
            # With the whole rest of the file in hand, only an error at its very end (or an
            # unterminated string) means the file was cut short.
            cut = e.pos >= len(r.buf.rstrip()) or e.msg.startswith("Unterminated string")
            reason = "truncated JSON" if cut else f"invalid JSON ({e.msg})"
            raise JSONStreamError(f"{where}: {reason}") from None
