"""The ablation set: the default configuration and one row per recall component switched off
(or swapped), all over the same haystacks in one run (`--ablation`)."""

from __future__ import annotations

from .system import SystemConfig

ABLATIONS: list[SystemConfig] = [
    SystemConfig("memsvc"),
    SystemConfig("no-lexical", {"recall": {"lexical": False}}),
    SystemConfig("rrf-fusion", {"recall": {"fusion": "rrf"}}),
    SystemConfig("no-key-expansion", {"ingest": {"key_expansion": False}}),
    SystemConfig("turn-granularity", {"ingest": {"granularity": "turn"}}),
    SystemConfig("no-time", {"recall": {"time_aware": False}}),
    SystemConfig("no-decay", {"decay": {"enabled": False}}),
    SystemConfig("no-graph", {"recall": {"graph_hops": 0}}),
    SystemConfig(
        "dense-only",
        {
            "recall": {"lexical": False, "time_aware": False, "graph_hops": 0},
            "ingest": {"key_expansion": False, "granularity": "turn"},
            "decay": {"enabled": False},
        },
    ),
]
