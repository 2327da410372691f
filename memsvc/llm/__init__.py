"""The LLM layer: the only code that calls a language model (through litellm).

    client = LLMClient(settings.llm)              # model "none" → every call returns None
    decisions = memorize(client, notes, usage=usage)   # ≤ 1 call per batch_size turns

Prompts are Markdown files in the package's ``memsvc/prompts/`` folder (its ``README.md``).
Nothing here raises on an LLM fault: calls return ``None`` and count the failure in
:class:`LLMUsage`, and the caller takes its offline path.
"""

from memsvc.llm.client import LLMClient
from memsvc.llm.parsing import JSONExtractionError, extract_json
from memsvc.llm.prompts import PromptError, PromptLibrary, default_prompts_dir
from memsvc.llm.schemas import (
    Evolution,
    LinkDecision,
    MemorizeOutput,
    NoteDecision,
    Operation,
    ThoughtDraft,
)
from memsvc.llm.tasks import Candidate, NewNote, distill_thought, format_time, memorize
from memsvc.llm.usage import LLMUsage

__all__ = [
    "Candidate",
    "Evolution",
    "JSONExtractionError",
    "LLMClient",
    "LLMUsage",
    "LinkDecision",
    "MemorizeOutput",
    "NewNote",
    "NoteDecision",
    "Operation",
    "PromptError",
    "PromptLibrary",
    "ThoughtDraft",
    "default_prompts_dir",
    "distill_thought",
    "extract_json",
    "format_time",
    "memorize",
]
