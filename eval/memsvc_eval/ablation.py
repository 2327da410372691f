"""The ablation set: the default configuration and one row per recall component switched off
(or swapped), all over the same haystacks in one run (`--ablation`). Rows that change only
search-time settings (recall, decay) search the default row's store instead of ingesting
their own (see `system.ingest_key`)."""

from __future__ import annotations

from .system import SystemConfig

ABLATIONS: list[SystemConfig] = [
    SystemConfig("memsvc"),
    SystemConfig("no-lexical", {"recall": {"lexical": False}}),
    SystemConfig("no-parts", {"recall": {"part_weight": 0.0}}),
    SystemConfig("no-session-diversity", {"recall": {"session_diversity": 0.0}}),
    SystemConfig("lexical-weight-1", {"recall": {"lexical_weight": 1.0}}),
    SystemConfig("rrf-fusion", {"recall": {"fusion": "rrf"}}),
    SystemConfig("minmax-fusion", {"recall": {"fusion": "minmax"}}),
    SystemConfig("no-speaker-names", {"ingest": {"speaker_names": False}}),
    SystemConfig("no-speaker-boost", {"recall": {"speaker_boost": 0.0}}),
    # Contextual keys for short turns are on by default: the row switches them off.
    SystemConfig("no-context-keys", {"ingest": {"context_keys": False}}),
    SystemConfig("no-neighbours", {"recall": {"neighbour_weight": 0.0}}),
    # The reply to a hit that asks something gains no more than any other neighbour.
    SystemConfig("no-answer-boost", {"recall": {"answer_weight": 0.0}}),
    SystemConfig("no-key-expansion", {"ingest": {"key_expansion": False}}),
    SystemConfig("turn-granularity", {"ingest": {"granularity": "turn"}}),
    SystemConfig("session-granularity", {"ingest": {"granularity": "session"}}),
    SystemConfig("no-time", {"recall": {"time_aware": False}}),
    SystemConfig("no-decay", {"decay": {"enabled": False}}),
    SystemConfig("no-graph", {"recall": {"graph_hops": 0}}),
    SystemConfig(
        "dense-only",
        {
            "recall": {
                "lexical": False,
                "time_aware": False,
                "graph_hops": 0,
                "part_weight": 0.0,
                "session_diversity": 0.0,
                "neighbour_weight": 0.0,
            },
            "ingest": {"key_expansion": False, "granularity": "turn", "max_parts": 0},
            "decay": {"enabled": False},
        },
    ),
]
