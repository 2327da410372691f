"""The fixture server's default answers: plausible, valid replies to every memsvc prompt.

Service-level tests can run "with the fixture LLM" without scripting each call: a memorize
request gets one decision per new note (keywords = the note's distinctive words, op ADD,
links to candidates that share a keyword), the reader answers from its first memory, the
judge checks that the reference appears in the response, and thoughts restate the answer.
Everything is derived from the request, so the answers are deterministic.

Helpers here also parse requests back (:func:`memorize_request`, :func:`tagged`), for
tests that script their own decisions (see :func:`memorize_op_when`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from tests.support.llm_server import ChatRequest, Reply

__all__ = [
    "content_words",
    "default_answer",
    "default_judge",
    "default_memorize",
    "default_responder",
    "default_thought",
    "memorize_op_when",
    "memorize_request",
    "tagged",
]

# Words too common to be keywords (the fixture's stand-in for a model's judgement).
_STOPWORD_TEXT = (
    "about above after again against also been before being below between both could does "
    "doing down during each even from further have having here hers herself himself into "
    "itself just like more most much myself only other ought ours ourselves over same "
    "should some such than that their theirs them themselves then there these they this "
    "those through under until very what when where which while will with would your "
    "yours yourself yourselves really thanks thank please today yesterday tomorrow know "
    "want going think well sure"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_ABSTAIN = ("don't know", "do not know", "cannot", "can't", "not available", "no information")


def tagged(request: ChatRequest, tag: str) -> str | None:
    """The text between ``<tag>`` and ``</tag>`` in the request (first occurrence)."""
    match = re.search(rf"<{tag}>\n?(.*?)\n?</{tag}>", request.text, re.DOTALL)
    return match.group(1) if match else None


def _json_lines(text: str | None) -> list[dict[str, Any]]:
    rows = []
    for line in (text or "").splitlines():
        line = line.strip()
        if line.startswith("{"):
            rows.append(json.loads(line))
    return rows


def memorize_request(request: ChatRequest) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(new notes, existing memories)`` as the memorize prompt listed them."""
    return _json_lines(tagged(request, "new_notes")), _json_lines(tagged(request, "memories"))


def content_words(text: str, limit: int) -> list[str]:
    """Distinctive words of ``text`` in order: ≥ 4 letters, no stopwords, no repeats."""
    seen: dict[str, str] = {}
    for word in re.findall(r"[A-Za-z][A-Za-z'-]{3,}", text):
        key = word.lower()
        if key not in _STOPWORDS and key not in seen:
            seen[key] = word
        if len(seen) >= limit:
            break
    return list(seen.values())


def default_memorize(request: ChatRequest) -> dict[str, Any]:
    notes, memories = memorize_request(request)
    memory_words = {
        m["handle"]: {w.lower() for w in content_words(m["content"], 50)} for m in memories
    }
    decisions = []
    for note in notes:
        words = content_words(note["content"], 6)
        lowered = {w.lower() for w in words}
        topic = ", ".join(words[:3]) or "nothing much"
        links = [
            {
                "target": handle,
                "reason": "shares " + ", ".join(sorted(lowered & memory_words[handle])),
            }
            for handle in note.get("candidates", [])
            if lowered & memory_words.get(handle, set())
        ]
        decisions.append(
            {
                "index": note["index"],
                "keywords": words[:5],
                "tags": [w.lower() for w in words[:2]] or ["misc"],
                "context": f"The {note['role']} talks about {topic}.",
                "facts": [note["content"][:200]] if words else [],
                "operation": {
                    "op": "ADD" if words else "NOOP",
                    "target": None,
                    "reason": "default",
                },
                "links": links[:3],
                "evolve": [],
            }
        )
    return {"notes": decisions}


def memorize_op_when(
    op: str, *, new_contains: str, old_contains: str
) -> Callable[[ChatRequest], dict[str, Any]]:
    """A memorize payload: the defaults, except ``op`` (e.g. SUPERSEDE) for every new note
    mentioning ``new_contains`` against its candidate mentioning ``old_contains``."""

    def payload(request: ChatRequest) -> dict[str, Any]:
        result = default_memorize(request)
        notes, memories = memorize_request(request)
        content = {m["handle"]: m["content"].lower() for m in memories}
        for note, decision in zip(notes, result["notes"], strict=True):
            if new_contains.lower() not in note["content"].lower():
                continue
            for handle in note.get("candidates", []):
                if old_contains.lower() in content.get(handle, ""):
                    decision["operation"] = {"op": op, "target": handle, "reason": "scripted"}
                    break
        return result

    return payload


def default_answer(request: ChatRequest) -> str:
    memories = (tagged(request, "memories") or "").strip()
    first = re.match(r"\[1\]\s*(.*)", memories)
    if not first:
        return "No relevant memories.\nAnswer: I don't know; the memories do not contain this."
    return f"[1] {first.group(1)}\nAnswer: {first.group(1)}"


def default_judge(request: ChatRequest) -> str:
    response = (tagged(request, "response") or "").lower()
    if request.prompt == "judge_abstention":
        return "yes" if any(phrase in response for phrase in _ABSTAIN) else "no"
    reference = " ".join((tagged(request, "reference") or "").lower().split())
    return "yes" if reference and reference in " ".join(response.split()) else "no"


def default_thought(request: ChatRequest) -> dict[str, Any]:
    answer = (tagged(request, "answer") or "").strip()
    keep = bool(answer) and not any(phrase in answer.lower() for phrase in _ABSTAIN)
    keywords = content_words(tagged(request, "question") or "", 5)
    return {"statement": answer, "keywords": keywords, "keep": keep}


def default_responder(request: ChatRequest) -> Reply:
    """Answer by prompt name (the ``X-Memsvc-Prompt`` header); unknown prompts get "OK"."""
    name = request.prompt or ""
    if name == "memorize":
        return Reply(content=json.dumps(default_memorize(request)))
    if name == "thought":
        return Reply(content=json.dumps(default_thought(request)))
    if name == "answer":
        return Reply(content=default_answer(request))
    if name.startswith("judge_"):
        return Reply(content=default_judge(request))
    return Reply(content="OK")
