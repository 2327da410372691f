"""Offline text heuristics (English, no LLM): tokenisation, keyphrases and tags,
facts, update slots and time expressions. Everything here is a pure, deterministic function
of its input (no I/O, no global mutable state), safe on any Unicode text."""

from memsvc.text.facts import extract_facts
from memsvc.text.keyphrases import extract_keyphrases, rerank_keyphrases
from memsvc.text.slots import (
    MULTI_VALUED,
    Slot,
    extract_slots,
    is_multi_valued,
    is_update_cue,
    supersedes,
)
from memsvc.text.tags import make_tags
from memsvc.text.timeexpr import TimeRange, is_temporal_question, parse_time_range, wants_latest
from memsvc.text.tokenize import STOPWORDS, sentence_spans, sentences, stem, terms, words

__all__ = [
    "MULTI_VALUED",
    "STOPWORDS",
    "Slot",
    "TimeRange",
    "extract_facts",
    "extract_keyphrases",
    "extract_slots",
    "is_multi_valued",
    "is_temporal_question",
    "is_update_cue",
    "make_tags",
    "parse_time_range",
    "rerank_keyphrases",
    "sentence_spans",
    "sentences",
    "stem",
    "supersedes",
    "terms",
    "wants_latest",
    "words",
]
