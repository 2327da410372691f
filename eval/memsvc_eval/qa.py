"""QA mode: answer from the retrieved memories, then judge the answer (LongMemEval protocol).

The reader prompt (Chain-of-Note style) and the per-question-type judge prompts live in
``memsvc/prompts/`` and are run by :mod:`memsvc_eval.judge`; this module only feeds them and
counts. Abstention questions (``_abs``) are judged with the abstention prompt: correct means
the model said it cannot know.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .data import Record
from .judge import answer_question, judge_answer


def format_memories(memories: Sequence[dict[str, Any]]) -> list[str]:
    """Memory texts with their event dates, which temporal questions need."""
    out: list[str] = []
    for m in memories:
        when = m.get("event_time")
        text = str(m.get("memory", ""))
        out.append(f"[{when[:16].replace('T', ' ')}] {text}" if when else text)
    return out


class QA:
    """One LLM client shared by every worker thread (litellm clients are thread-safe)."""

    def __init__(self, llm_settings: Any) -> None:
        from memsvc.llm.client import LLMClient

        if not llm_settings.enabled:
            raise ValueError("QA mode needs an LLM: set llm.model (e.g. --set llm.model=...)")
        self.client = LLMClient(llm_settings)
        self.model = llm_settings.model

    def run(self, record: Record, memories: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """Answer and judge one question; ``correct`` is None when the judge gave no verdict."""
        from memsvc.llm.usage import LLMUsage

        usage = LLMUsage()
        hypothesis = answer_question(
            self.client,
            question=record.question,
            question_date=record.question_date.strftime("%Y/%m/%d (%a) %H:%M"),
            memories=format_memories(memories),
            usage=usage,
        )
        correct: bool | None = None
        if hypothesis is not None:
            correct = judge_answer(
                self.client,
                question_type=record.question_type,
                question=record.question,
                answer=record.answer,
                hypothesis=hypothesis,
                abstention=record.is_abstention,
                usage=usage,
            )
        return {
            "hypothesis": hypothesis,
            "correct": correct,
            "llm_calls": usage.calls,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
        }
