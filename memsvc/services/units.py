"""Messages grouped into units: the pieces of a conversation that become one note each.

`make_units` turns an add's episodes into `planning.Unit`s by the ingest granularity: "turn"
keeps one unit per message; "round" joins a user turn with the assistant replies that follow
it, and a named person's consecutive messages (with `ingest.named_rounds`, also a named
person's message and the other person's reply); "session" makes one extractive summary of the
whole conversation (`session_unit`). `content_hash` is the normalised-text hash a unit (and
an edited note) is stored under, so exact duplicates collide. Pure functions: no database,
no embedder.
"""

from __future__ import annotations

import hashlib
import re

from memsvc.db.models import Episode
from memsvc.services.planning import Unit
from memsvc.text.facts import extract_facts

_WS = re.compile(r"\s+")


def content_hash(text: str) -> str:
    """Hash of the normalised text: exact duplicates (modulo case/whitespace) collide."""
    return hashlib.sha256(_WS.sub(" ", text.strip().lower()).encode()).hexdigest()


def speaker(ep: Episode) -> str:
    """Who a message is from, as a note shows it: the name if given, else the role."""
    return ep.name or ep.role


def _joins(group: list[Episode], ep: Episode, *, replies: bool = False) -> bool:
    """Whether `ep` continues the round `group`: an assistant reply to a user turn, or one
    more message of the same named person (people send several messages in a row). Two
    people talking (both `user`, different names) stay one unit per message each, unless
    `replies`: then a named person's message and the next person's reply make one round,
    as a user turn and the assistant's reply do."""
    if ep.role == "assistant" and group[0].role == "user":
        return True
    if ep.name is None:
        return False
    who = {(g.role, g.name) for g in group}
    if (ep.role, ep.name) == (group[-1].role, group[-1].name):
        return len(who) == 1 or replies  # the same person goes on (or the reply does)
    return replies and len(who) == 1 and group[0].name is not None


def make_units(
    episodes: list[Episode],
    kind: str,
    granularity: str,
    conversation: bool,
    *,
    names: bool = True,
    replies: bool = False,
) -> list[Unit]:
    """Group episodes into units. "round" joins a user turn with the assistant replies that
    follow it (LongMemEval's best value granularity), and a named person's consecutive
    messages; "turn" keeps one unit per message; "session" makes one summary note of the
    whole conversation sent in this call. With `names`, a named speaker's words read
    "Name: ..." in the note, so the name is part of its key and lexical text."""
    if conversation and granularity == "session" and episodes:
        return [session_unit(episodes)]
    groups: list[list[Episode]] = []
    for ep in episodes:
        if (
            conversation
            and granularity == "round"
            and groups
            and _joins(groups[-1], ep, replies=replies)
        ):
            groups[-1].append(ep)
        else:
            groups.append([ep])
    units: list[Unit] = []
    previous: str | None = None
    for group in groups:
        source: str | None = None
        named = names and any(ep.name for ep in group)
        if len(group) == 1:
            ep = group[0]
            content, role, unit_kind = ep.content, ep.role if conversation else None, kind
            if named:
                content = f"{ep.name}: {ep.content}"
        else:
            label = speaker if names else (lambda e: e.role)
            content = "\n".join(f"{label(ep)}: {ep.content}" for ep in group)
            role, unit_kind = group[0].role, "round"
            # The user's own sentences: what later questions about the user point at.
            source = "\n".join(ep.content for ep in group if ep.role == "user")
        units.append(
            Unit(
                position=len(units),
                content=content,
                role=role,
                kind=unit_kind,
                event_time=group[0].event_time,
                episode_ids=[ep.id for ep in group],
                content_hash=content_hash(content),
                previous=previous,
                part_source=source,
            )
        )
        last = group[-1]
        # What the next unit answers, under its speaker's name when names are kept.
        previous = f"{last.name}: {last.content}" if names and last.name else last.content
    return units


SUMMARY_FACTS_PER_TURN = 3
SUMMARY_MAX_FACTS = 12
SUMMARY_FALLBACK_CHARS = 400


def session_unit(episodes: list[Episode]) -> Unit:
    """One note for a conversation: an extractive digest of what the user said (their
    informative statements, offline) as content, every user sentence as a part, and every
    message as provenance."""
    user = [ep.content for ep in episodes if ep.role == "user"]
    facts: list[str] = []
    for text in user:
        for fact in extract_facts(text, role="user", max_facts=SUMMARY_FACTS_PER_TURN):
            if fact not in facts and len(facts) < SUMMARY_MAX_FACTS:
                facts.append(fact)
    if facts:
        content = "\n".join(f"- {f}" for f in facts)
    else:
        first = " ".join((user or [episodes[0].content])[0].split())
        content = first[:SUMMARY_FALLBACK_CHARS]
    return Unit(
        position=0,
        content=content,
        role="user",
        kind="summary",
        event_time=episodes[0].event_time,
        episode_ids=[ep.id for ep in episodes],
        content_hash=content_hash(content),
        part_source="\n".join(user) if user else content,
    )
