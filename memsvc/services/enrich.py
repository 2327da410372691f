"""Note attributes without an LLM (keyphrases, tags, facts, slots, context) and the A-MEM key.

The LLM path (`memsvc.llm.tasks.memorize`) fills the same fields when configured; these
heuristics are the fallback and the `llm = none` behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from memsvc.db.models import Note
from memsvc.text.facts import extract_facts
from memsvc.text.keyphrases import KeyphraseMethod, keyphrases, make_tags
from memsvc.text.slots import extract_slots

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
    keywords = keyphrases(content, k=MAX_KEYWORDS, method=method)
    tags = make_tags(content, keywords, k=MAX_TAGS)
    facts = extract_facts(content, role=speaker, max_facts=MAX_FACTS)
    slots = (
        [[s.name, s.value] for s in extract_slots(content, role=speaker)]
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
