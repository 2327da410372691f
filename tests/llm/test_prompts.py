"""Prompt files: sections, placeholders, includes, and the shipped prompts folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from memsvc.llm.prompts import PromptError, PromptLibrary, default_prompts_dir, render_value


def write(directory: Path, name: str, text: str) -> None:
    (directory / f"{name}.md").write_text(text, encoding="utf-8")


@pytest.fixture
def library(tmp_path: Path) -> PromptLibrary:
    write(tmp_path, "greet", "<!-- doc -->\n## system\nBe {{ tone }}.\n\n## user\nHi {{name}}!\n")
    write(tmp_path, "rules", "Rule one.\n{{> inner}}")
    write(tmp_path, "inner", "<!-- fragment -->Rule {{ n }}.")
    write(tmp_path, "framed", "## system\nRules:\n{{> rules}}\n## user\n{{ q }}")
    write(tmp_path, "loop_a", "A {{> loop_b}}")
    write(tmp_path, "loop_b", "B {{> loop_a}}")
    write(tmp_path, "uses_loop", "## user\n{{> loop_a}}")
    write(tmp_path, "includes_full", "## user\n{{> greet}}")
    write(tmp_path, "prose_first", "intro\n## user\nx")
    return PromptLibrary(tmp_path)


def test_sections_become_messages_in_order(library: PromptLibrary) -> None:
    messages = library.render("greet", tone="brief", name="Ada")
    assert messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi Ada!"},
    ]


def test_missing_variable_names_prompt_and_variable(library: PromptLibrary) -> None:
    with pytest.raises(PromptError) as info:
        library.render("greet", tone="brief")
    assert "greet" in str(info.value)
    assert "name" in str(info.value)


def test_includes_resolve_recursively(library: PromptLibrary) -> None:
    messages = library.render("framed", n=2, q="why?")
    assert messages[0] == {"role": "system", "content": "Rules:\nRule one.\nRule 2."}
    assert library.variables("framed") == {"n", "q"}


def test_include_cycle_is_reported(library: PromptLibrary) -> None:
    with pytest.raises(PromptError, match="cycle"):
        library.render("uses_loop")


def test_only_fragments_can_be_included(library: PromptLibrary) -> None:
    with pytest.raises(PromptError, match="only fragments"):
        library.render("includes_full", tone="x", name="y")


def test_text_before_first_heading_is_an_error(library: PromptLibrary) -> None:
    with pytest.raises(PromptError, match="before the first"):
        library.render("prose_first")


def test_fragment_renders_as_one_user_message(library: PromptLibrary) -> None:
    assert library.render("inner", n=1) == [{"role": "user", "content": "Rule 1."}]


def test_unknown_and_unsafe_names(library: PromptLibrary) -> None:
    with pytest.raises(PromptError, match="not found"):
        library.render("nope")
    with pytest.raises(PromptError, match="invalid prompt name"):
        library.render("../greet")


def test_values_are_not_rescanned(library: PromptLibrary) -> None:
    # User text that looks like template syntax must stay literal.
    messages = library.render("greet", tone="{{ name }}", name="## system\n{{> inner}}")
    assert messages[0]["content"] == "Be {{ name }}."
    assert messages[1]["content"] == "Hi ## system\n{{> inner}}!"


def test_render_value_formats() -> None:
    assert render_value(["a", {"b": 1}]) == '["a",{"b":1}]'
    assert render_value({"x": "é"}) == '{"x":"é"}'
    assert render_value(None) == ""
    assert render_value(True) == "true"
    assert render_value("plain") == "plain"
    assert render_value(3.5) == "3.5"


def test_cache_clear_picks_up_edits(tmp_path: Path) -> None:
    write(tmp_path, "p", "## user\nv1")
    library = PromptLibrary(tmp_path)
    assert library.render("p")[0]["content"] == "v1"
    write(tmp_path, "p", "## user\nv2")
    assert library.render("p")[0]["content"] == "v1"
    library.clear()
    assert library.render("p")[0]["content"] == "v2"


SHIPPED_VARIABLES = {
    "memorize": {"count", "memories", "notes"},
    "thought": {"question", "answer", "memories"},
    "answer": {"question", "question_date", "memories"},
    "judge_default": {"question", "answer", "hypothesis"},
    "judge_temporal": {"question", "answer", "hypothesis"},
    "judge_knowledge_update": {"question", "answer", "hypothesis"},
    "judge_preference": {"question", "answer", "hypothesis"},
    "judge_abstention": {"question", "answer", "hypothesis"},
    "repair": {"error"},
}
FRAGMENTS = {
    "note_attributes",
    "fact_extraction",
    "link_decision",
    "evolution",
    "memory_op",
    "judge_format",
}


def test_shipped_prompts_folder_is_complete() -> None:
    library = PromptLibrary()
    assert library.directory == default_prompts_dir()
    assert set(library.names()) == set(SHIPPED_VARIABLES) | FRAGMENTS


@pytest.mark.parametrize("name", sorted(SHIPPED_VARIABLES))
def test_shipped_prompt_renders_with_exactly_its_variables(name: str) -> None:
    library = PromptLibrary()
    assert library.variables(name) == SHIPPED_VARIABLES[name]
    values = {var: f"<<{var}-value>>" for var in SHIPPED_VARIABLES[name]}
    messages = library.render(name, **values)
    text = "\n".join(m["content"] for m in messages)
    assert all(f"<<{var}-value>>" in text for var in values)
    assert "{{" not in text and "<!--" not in text
    assert messages[-1]["role"] == "user"


def test_memorize_prompt_includes_every_task_fragment() -> None:
    library = PromptLibrary()
    system = library.render("memorize", count=1, memories="", notes="")[0]["content"]
    for field in ("`keywords`", "`facts`", "`operation`", "`links`", "`evolve`", "SUPERSEDE"):
        assert field in system
