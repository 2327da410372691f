"""Page sizes: past the configured maximum a list call is refused, never silently clamped."""

from __future__ import annotations

import pytest

from memsvc import Memory
from memsvc.config import Settings
from memsvc.embed import CachedEmbedder
from memsvc.errors import InvalidInput


def test_limit_over_the_configured_maximum_is_refused(
    settings: Settings, embedder: CachedEmbedder
) -> None:
    settings.api.max_page_size = 3
    with Memory(settings, embedder=embedder) as mem:
        mem.add(["one fact", "two facts", "three facts", "four facts"], user_id="u", infer=False)
        assert len(mem.get_all(user_id="u", limit=3).results) == 3
        with pytest.raises(InvalidInput, match="limit must be <= 3"):
            mem.get_all(user_id="u", limit=4)
