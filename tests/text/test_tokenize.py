from __future__ import annotations

import pytest

from memsvc.text.tokenize import STOPWORDS, sentence_spans, sentences, stem, terms, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, World!", ["hello", "world"]),
        ("I don't know", ["i", "don't", "know"]),
        ("Luna's toys", ["luna", "toys"]),
        ("it's fine", ["it's", "fine"]),
        ("I’m here", ["i'm", "here"]),  # curly apostrophe normalised
        ("2,000 miles and 3.5 stars", ["2000", "miles", "and", "3.5", "stars"]),
        ("a t-shirt and COVID-19", ["a", "t-shirt", "and", "covid-19"]),
        ("$420 at 16GB", ["420", "at", "16gb"]),
        ("7/22 trip", ["7", "22", "trip"]),
        ("café naïve", ["café", "naïve"]),
        ("手机很好", ["手", "机", "很", "好"]),
        ("iPhone手机", ["iphone", "手", "机"]),
        ("", []),
        ("!!! ...", []),
        ("snake_case", ["snake", "case"]),
    ],
)
def test_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("running", "run"),
        ("hiking", "hike"),
        ("hikes", "hiked"),
        ("movies", "movie"),
        ("studies", "study"),
        ("studied", "study"),
        ("cities", "city"),
        ("classes", "class"),
        ("boxes", "box"),
        ("stopped", "stop"),
        ("paintings", "painting"),
        ("speeding", "speed"),
        ("bikes", "biking"),
    ],
)
def test_stem_merges_variants(a: str, b: str) -> None:
    assert stem(a) == stem(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("class", "clas"), ("falling", "fal"), ("hopping", "hoping"), ("plan", "plane")],
)
def test_stem_keeps_distinct_words_apart(a: str, b: str) -> None:
    assert stem(a) != stem(b)


@pytest.mark.parametrize("word", ["is", "as", "2023", "16gb", "手机", "naïve", "running" * 10])
def test_stem_leaves_short_long_numeric_and_non_latin_words(word: str) -> None:
    """As FTS5's porter: under 3 or over 64 characters stay whole; so do digits and non-ASCII."""
    assert stem(word) == word


def test_stem_is_idempotent_on_common_words() -> None:
    for w in ["running", "cities", "movies", "hiking", "classes", "played", "studies"]:
        assert stem(stem(w)) == stem(w)


def test_terms_drop_stopwords_split_hyphens_and_stem() -> None:
    assert terms("The runners were running to the bike-sharing stations") == [
        "runner",
        "run",
        "bike",
        "share",
        "station",
    ]
    assert terms("I am the one that you are") == ["on"]  # Porter: "one" → "on", as in FTS5
    assert terms("a t-shirt") == ["shirt"]  # the lone "t" goes


def test_stopwords_are_lowercase_function_words() -> None:
    assert {"the", "and", "i", "don't", "my"} <= STOPWORDS
    assert not {"berlin", "dog", "work", "coffee", "tips"} & STOPWORDS
    assert all(w == w.lower() for w in STOPWORDS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        (
            "Dr. Smith met J. K. Rowling at 3 p.m. on Jan. 5. It was fun.",
            ["Dr. Smith met J. K. Rowling at 3 p.m. on Jan. 5.", "It was fun."],
        ),
        ("It cost $3.50! Wow.", ["It cost $3.50!", "Wow."]),
        ("See https://ex.com/a.b?c=1. Done.", ["See https://ex.com/a.b?c=1.", "Done."]),
        ("I moved to the U.S. in May.", ["I moved to the U.S. in May."]),
        ("e.g. apples, i.e. fruit. Next.", ["e.g. apples, i.e. fruit.", "Next."]),
        ("Wait... really? Yes.", ["Wait... really?", "Yes."]),
        ('"Go!" she said. Then left.', ['"Go!" she said.', "Then left."]),
        ("- item one\n  * item two\n1. **Bold** point", ["item one", "item two", "Bold point"]),
        ("### Heading\nText here.", ["Heading", "Text here."]),
        ("no punctuation at all", ["no punctuation at all"]),
        ("我喜欢猫。你呢？ok", ["我喜欢猫。", "你呢？", "ok"]),
        ("", []),
        ("\n\n   \n", []),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_sentence_spans_index_the_original_text() -> None:
    text = "  Hi there.  Now I live in Paris!\n2. **Next** line\n"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["Hi there.", "Now I live in Paris!", "**Next** line"]
    assert all(0 <= a < b <= len(text) for a, b in spans)
