"""Sentence-level parts of a memory, each embedded on its own.

A conversational round is long (the user's message plus a longer reply) and its embedding is
an average of everything in it; the detail a later question asks about is often a side remark
("By the way, I got my Fitbit last month"). Recall scores a note on its best-matching part as
well as on its whole key, so such remarks stay findable without splitting the note itself.
"""

from __future__ import annotations

from memsvc.text.tokenize import sentences, words

# A sentence this short ("Thanks!", "Sure.") says little alone: it joins its neighbour.
MIN_WORDS = 4
MIN_CHARS = 12
# Part ids pack (note pk, part number) into one int64 in the parts index: 6 bits of parts.
MAX_PARTS = 64


def key_parts(text: str, *, max_parts: int, whole: str | None = None) -> list[str]:
    """Sentences of `text`, short ones joined to the next, at most `max_parts` (the longest
    are kept, in text order). Empty when the only part would be `whole` itself, i.e. when
    the note's own key already says exactly this."""
    if max_parts <= 0:
        return []
    parts: list[str] = []
    pending = ""
    for sent in sentences(text):
        sent = f"{pending} {sent}".strip() if pending else sent
        if len(words(sent)) < MIN_WORDS:
            pending = sent
            continue
        pending = ""
        parts.append(sent)
    if pending:
        if parts:
            parts[-1] = f"{parts[-1]} {pending}"
        elif len(pending) >= MIN_CHARS:
            parts.append(pending)
    if len(parts) > max_parts:
        keep = sorted(sorted(range(len(parts)), key=lambda i: -len(parts[i]))[:max_parts])
        parts = [parts[i] for i in keep]
    if len(parts) == 1 and " ".join(parts[0].split()) == " ".join((whole or "").split()):
        return []
    return parts
