"""A note's A-MEM key, and its offline attributes recomputed in place after an edit.

The attributes themselves (keyphrases, tags, facts, slots, context) come from
`memsvc.text.attributes`; the LLM path (`memsvc.llm.tasks.memorize`) fills the same fields.
"""

from __future__ import annotations

from memsvc.db.models import Note
from memsvc.text.attributes import offline_attributes
from memsvc.text.keyphrases import KeyphraseMethod


def key_text(
    content: str, keywords: list[str], tags: list[str], context: str, facts: list[str]
) -> str:
    """A-MEM's embedding key: content + keywords + tags + context as one merged text, plus the
    extracted facts (LongMemEval's best key expansion: one merged key, not parallel keys)."""
    parts = [content]
    extra_facts = [f for f in facts if f not in content]
    if extra_facts:
        parts.append(" ".join(extra_facts))
    if keywords:
        parts.append("Keywords: " + ", ".join(keywords))
    seen = {k.lower() for k in keywords}
    tags = [t for t in tags if t.lower() not in seen]  # a tag repeating a keyword adds nothing
    if tags:
        parts.append("Tags: " + ", ".join(tags))
    if context:
        parts.append(context)
    return "\n".join(parts)


def key_text_of(note: Note) -> str:
    return key_text(
        note.content, note.keywords or [], note.tags or [], note.context or "", note.facts or []
    )


def refresh_key(note: Note, *, expand: bool = True) -> str:
    """Recompute the note's merged key after any attribute change; the lexical index follows
    `search_text` through database triggers. Returns the key to embed. `expand=False` (the
    `ingest.key_expansion` setting) keys the content alone."""
    note.search_text = key_text_of(note) if expand else note.content
    return note.search_text


def enrich_offline(
    note: Note,
    previous: str | None = None,
    *,
    expand: bool = True,
    method: KeyphraseMethod = "builtin",
) -> None:
    """Recompute a note's attributes in place (after its text changed)."""
    attrs = offline_attributes(note.content, note.role, previous=previous, method=method)
    note.keywords, note.tags, note.context = attrs.keywords, attrs.tags, attrs.context
    note.facts, note.slots = attrs.facts, attrs.slots
    refresh_key(note, expand=expand)
