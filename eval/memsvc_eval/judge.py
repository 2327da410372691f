"""Question answering over recalled memories, and its LLM judge (LongMemEval's protocol).

The reader answers Chain-of-Note style (``prompts/answer.md``): it first notes what each
memory says about the question, then answers on a final ``Answer:`` line, or says it
cannot answer from the memories. The judge (Wu et al., ICLR 2025, §5 / App. A) is asked a
yes/no question with a prompt chosen by question type: temporal reasoning tolerates
off-by-one day counts, knowledge updates accept an answer that also mentions the older
value, preference questions use a rubric, and abstention questions (``_abs`` ids) are
correct only when the response declines to answer.

Eval-only (LongMemEval QA mode, :mod:`memsvc_eval.qa`), so it lives here rather than in
``memsvc.llm``. The prompts it runs (``answer.md``, ``judge_*.md``) stay in the package's
``memsvc/prompts/`` folder, because :class:`~memsvc.llm.client.LLMClient` loads prompts from
there (``tests/llm/test_prompts.py`` checks their placeholders with the others).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from memsvc.llm.client import LLMClient
from memsvc.llm.parsing import JSONExtractionError, extract_json
from memsvc.llm.schemas import clip
from memsvc.llm.tasks import numbered
from memsvc.llm.usage import LLMUsage

__all__ = [
    "answer_question",
    "final_answer",
    "judge_answer",
    "judge_prompt_name",
    "parse_verdict",
]

MAX_MEMORY_CHARS = 2000

_JUDGE_BY_TYPE = {
    "temporal-reasoning": "judge_temporal",
    "knowledge-update": "judge_knowledge_update",
    "single-session-preference": "judge_preference",
}
# "Answer:" on its own line, possibly in Markdown bold ("**Answer:**").
_ANSWER_LINE = re.compile(r"^[ \t>*_#-]*(?:final\s+)?answer[ \t*_]*:[ \t*_]*", re.I | re.M)
_YES = {"yes", "correct", "true"}
_NO = {"no", "incorrect", "wrong", "false"}


def answer_question(
    client: LLMClient,
    *,
    question: str,
    question_date: str,
    memories: Sequence[str],
    usage: LLMUsage | None = None,
) -> str | None:
    """The answer to ``question`` from the retrieved ``memories`` (best first), or ``None``.

    Returns the text of the final ``Answer:`` line (the reading notes are dropped); when the
    model wrote no such line, its whole reply. ``memories`` are shown verbatim (truncated to
    ``MAX_MEMORY_CHARS`` each), so include each memory's date in the string.
    """
    return client.complete_with(
        "answer",
        final_answer,
        usage=usage,
        question=question,
        question_date=question_date,
        memories=numbered(memories, MAX_MEMORY_CHARS),
    )


def judge_prompt_name(question_type: str, *, abstention: bool = False) -> str:
    """The judge prompt for a LongMemEval question type (abstention overrides the type)."""
    if abstention:
        return "judge_abstention"
    return _JUDGE_BY_TYPE.get(question_type.strip().lower(), "judge_default")


def judge_answer(
    client: LLMClient,
    *,
    question_type: str,
    question: str,
    answer: str,
    hypothesis: str,
    abstention: bool,
    usage: LLMUsage | None = None,
) -> bool | None:
    """Whether ``hypothesis`` answers ``question`` correctly (``answer`` is the reference).

    ``None`` when the LLM is off or gave no usable verdict after retries.
    """
    return client.complete_with(
        judge_prompt_name(question_type, abstention=abstention),
        parse_verdict,
        usage=usage,
        question=question,
        answer=answer,
        hypothesis=hypothesis,
    )


def final_answer(text: str) -> str:
    """The text after the last ``Answer:`` line, else the whole reply; empty → ValueError."""
    matches = list(_ANSWER_LINE.finditer(text))
    tail = text[matches[-1].end() :] if matches else text
    answer = tail.strip().strip("*_").strip()
    if not answer:
        raise ValueError("empty answer")
    return answer


def parse_verdict(text: str) -> bool:
    """A judge's yes/no. Accepts ``yes``/``no`` first, a JSON verdict, or one clear polarity.

    Raises ``ValueError`` when the reply is ambiguous, which makes the client retry.
    """
    try:
        value = extract_json(text)
    except JSONExtractionError:
        value = None
    if isinstance(value, dict):
        for key in ("correct", "verdict", "label", "answer"):
            if key in value:
                return _polarity(str(value[key]).lower())
    words = re.findall(r"[a-z]+", text.lower())
    if not words:
        raise ValueError("empty verdict")
    if words[0] in _YES | _NO:
        return words[0] in _YES
    found = {w in _YES for w in words if w in {"yes", "no"}}
    if len(found) == 1:
        return found.pop()
    raise ValueError(f"no clear yes/no verdict in {clip(text, 120)!r}")


def _polarity(value: str) -> bool:
    word = value.strip().split()[0] if value.strip() else ""
    if word.strip(".!,") in _YES:
        return True
    if word.strip(".!,") in _NO:
        return False
    raise ValueError(f"unclear verdict value {value!r}")
