"""Planning with the LLM: one batched `memorize` call decides attributes, facts, the TiM
operation, links and neighbour evolution for every unit. Units the LLM could not answer for
take the offline path and are queued for enrichment later (`pending_llm`)."""

from __future__ import annotations

from memsvc.config import IngestSettings
from memsvc.llm import Candidate, LLMClient, LLMUsage, NewNote, NoteDecision, memorize
from memsvc.ops import SAME, UPDATE, new_details, relation
from memsvc.services.llm_wait import call_llm
from memsvc.services.planning import (
    Evolution,
    Plan,
    Unit,
    decide_offline,
    evolve_offline,
    link_offline,
)

# Candidates shown to the model per note: the nearest few plus exact text/slot matches.
MAX_LLM_CANDIDATES = 6
DEFAULT_LINK_WEIGHT = 0.6


def _candidates(plan: Plan, unit: Unit) -> list[Candidate]:
    out: list[Candidate] = []
    for key, _ in plan.candidates.get(unit.position, [])[:MAX_LLM_CANDIDATES]:
        if key >= 0:
            n = plan.neighbors[key]
            if not n.current:
                continue
            out.append(Candidate(str(key), n.content, n.keywords, n.tags, n.context, n.event_time))
        else:
            o = plan.units[-1 - key]
            if o.op != "NOOP":
                out.append(
                    Candidate(str(key), o.content, o.keywords, o.tags, o.context, o.event_time)
                )
    return out


def _session_context(unit: Unit, session_id: str | None) -> str:
    parts = [f"session {session_id}" if session_id else "no session"]
    parts.append(f"on {unit.event_time:%Y-%m-%d}")
    if unit.previous:
        parts.append("previous turn: " + " ".join(unit.previous.split())[:200])
    return "; ".join(parts)


def _is_current(plan: Plan, key: int) -> bool:
    if key >= 0:
        n = plan.neighbors.get(key)
        return n is not None and n.current
    return -1 - key < len(plan.units) and plan.units[-1 - key].op != "NOOP"


def _content(plan: Plan, key: int) -> str:
    return plan.neighbors[key].content if key >= 0 else plan.units[-1 - key].content


def _checked_merge(plan: Plan, unit: Unit, target: int, reason: str) -> tuple[str, str]:
    """The model's MERGE, held to "a merge never loses a detail": a changed value of the same
    subject supersedes instead, a new number, code, name or polarity is another memory, and
    a merge of other wording keeps the merged text on the target (`keep_text`)."""
    old = _content(plan, target)
    rel = relation(unit.content, old)
    if rel == SAME:
        return "MERGE", reason
    if rel == UPDATE:
        return "SUPERSEDE", f"{reason}; a changed value supersedes rather than merges"
    if new_details(unit.content, old):
        return "ADD", f"{reason}; not merged: it carries details the memory lacks"
    unit.keep_text = True
    return "MERGE", reason


def _apply_decision(plan: Plan, unit: Unit, d: NoteDecision) -> None:
    unit.keywords, unit.tags, unit.context = d.keywords, d.tags, d.context
    unit.facts = d.facts
    unit.enrichment = "llm"
    op: str = d.operation.op
    target = int(d.operation.target) if d.operation.target is not None else None
    if op in {"MERGE", "SUPERSEDE"} and (target is None or not _is_current(plan, target)):
        op, target = "ADD", None
    reason = d.operation.reason or op.lower()
    if op == "MERGE" and target is not None:
        op, reason = _checked_merge(plan, unit, target, reason)
        target = None if op == "ADD" else target
    unit.op, unit.target, unit.reason = op, target, reason
    unit.superseded = (target,) if op == "SUPERSEDE" and target is not None else ()
    sims = dict(plan.candidates.get(unit.position, []))
    if op not in {"MERGE", "NOOP"}:
        for link in d.links:
            key = int(link.target)
            if key != target or op != "SUPERSEDE":
                unit.links.append(
                    (key, link.reason or "related", round(sims.get(key, DEFAULT_LINK_WEIGHT), 4))
                )
    for evo in d.evolve:
        key = int(evo.target)
        if key >= 0 and key in plan.neighbors and evo.changes_something:
            plan.evolutions[key] = Evolution(
                key, tags=evo.tags, context=evo.context, reason="llm evolution"
            )


def decide_with_llm(
    plan: Plan,
    session_id: str | None,
    usage: LLMUsage,
    *,
    llm: LLMClient,
    cfg: IngestSettings,
    bound_s: float | None = None,
) -> None:
    """`bound_s`: wait at most this long for the LLM (None: as long as it takes); past it,
    every unit takes the offline path and is queued for enrichment (`pending_llm`)."""
    notes = [
        NewNote(
            index=u.position,
            role=u.role or "user",
            content=u.content,
            timestamp=u.event_time,
            session_context=_session_context(u, session_id),
            candidates=_candidates(plan, u),
        )
        for u in plan.units
    ]
    answer = call_llm(llm, lambda u: memorize(llm, notes, usage=u), usage=usage, bound_s=bound_s)
    decisions = answer if answer is not None else [None] * len(notes)
    for unit, decision in zip(plan.units, decisions, strict=True):
        if decision is None:
            # Offline now, enriched by the job queue when the LLM answers again.
            decide_offline(plan, unit, cfg=cfg)
            link_offline(plan, unit, cfg=cfg)
            evolve_offline(plan, unit, cfg=cfg)
            unit.pending_llm = True
        else:
            _apply_decision(plan, unit, decision)
