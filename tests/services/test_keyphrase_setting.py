"""`ingest.keyphrases` reaches every place a note's offline attributes are computed: ingest,
an update of the text, and the keys it makes."""

from __future__ import annotations

from pathlib import Path

import pytest

from memsvc import Memory
from memsvc.embed import CachedEmbedder
from memsvc.text.keyphrases import KeyphraseMethod, keyphrases
from tests.conftest import make_settings

pytest.importorskip("yake")

TEXT = (
    "We drove to the Smoky Mountains for a long weekend of hiking, and my daughter Sara "
    "photographed every waterfall on the Alum Cave trail."
)
LATER = "I repaired the old cedar canoe in the garage and painted it bright yellow."


@pytest.mark.parametrize("method", ["builtin", "yake"])
def test_the_setting_picks_the_extractor(
    tmp_path: Path, embedder: CachedEmbedder, method: KeyphraseMethod
) -> None:
    settings = make_settings(tmp_path, ingest={"keyphrases": method})
    with Memory(settings, embedder=embedder) as m:
        res = m.add(text=TEXT, user_id="u", infer=True)
        note = m.get(res.results[0].id or "", user_id="u")
        # The note's keywords are that extractor's (make_tags may add tags; keywords are its).
        assert note.keywords == keyphrases(TEXT, k=len(note.keywords), method=method)
        m.update(note.id, text=LATER, user_id="u")
        after = m.get(note.id, user_id="u")
        assert after.keywords == keyphrases(LATER, k=len(after.keywords), method=method)
    other: KeyphraseMethod = "yake" if method == "builtin" else "builtin"
    assert keyphrases(TEXT, k=8, method=method) != keyphrases(TEXT, k=8, method=other)
