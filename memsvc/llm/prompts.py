"""Prompt files (``memsvc/prompts/*.md``) rendered into chat messages.

File format (see ``memsvc/prompts/README.md``): optional ``<!-- ... -->`` comments
(stripped), then sections introduced by a line ``## system``, ``## user`` or ``## assistant``;
each section becomes one chat message, in order. A file with no section heading is a
*fragment*: it is meant to be included (``{{> name}}``) and renders, if asked directly, as one
user message.

Placeholders are ``{{ name }}``. Rendering fails fast: a placeholder without a value raises
:class:`PromptError` naming the prompt and the variable. Values are substituted once (text
inside a value is never re-scanned, so user content cannot inject placeholders or sections).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from pydantic import BaseModel

__all__ = ["PromptError", "PromptLibrary", "default_prompts_dir", "render_value"]

_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_INCLUDE = re.compile(r"\{\{>\s*([A-Za-z0-9_\-]+)\s*\}\}")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_HEADING = re.compile(r"^##[ \t]+(system|user|assistant)[ \t]*$", re.IGNORECASE | re.MULTILINE)


class PromptError(ValueError):
    """A prompt that cannot be rendered: unknown file, missing variable, bad include."""


def default_prompts_dir() -> Path:
    """The ``memsvc/prompts/`` folder shipped inside the package."""
    return Path(__file__).resolve().parent.parent / "prompts"


def render_value(value: object) -> str:
    """How a variable appears in a prompt: text as is, containers as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | dict | bool | int | float):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(value)


@dataclass(frozen=True)
class _Template:
    name: str
    sections: tuple[tuple[str, str], ...]  # (role, text) with includes already resolved

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(
            m.group(1) for _, text in self.sections for m in _PLACEHOLDER.finditer(text)
        )


class PromptLibrary:
    """Loads, caches and renders the prompt files of one directory. Thread-safe."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_prompts_dir()
        self._cache: dict[str, _Template] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        """Every prompt (and fragment) in the directory, sorted (``README.md`` excluded)."""
        stems = (p.stem for p in self.directory.glob("*.md"))
        return sorted(s for s in stems if _NAME.match(s) and s.lower() != "readme")

    def variables(self, name: str) -> frozenset[str]:
        """The placeholders ``name`` needs (after includes)."""
        return self._template(name).variables

    def render(self, name: str, /, **variables: object) -> list[dict[str, str]]:
        """Chat messages ``[{"role", "content"}]`` for prompt ``name`` filled with ``variables``."""
        template = self._template(name)
        missing = sorted(template.variables - variables.keys())
        if missing:
            raise PromptError(f"prompt {name!r}: missing variable(s) {', '.join(missing)}")
        rendered = {key: render_value(variables[key]) for key in template.variables}

        def fill(match: re.Match[str]) -> str:
            return rendered[match.group(1)]

        return [
            {"role": role, "content": _PLACEHOLDER.sub(fill, text).strip()}
            for role, text in template.sections
        ]

    def clear(self) -> None:
        """Forget cached files (after editing prompts at run time)."""
        with self._lock:
            self._cache.clear()

    # -- loading ---------------------------------------------------------------------------
    def _template(self, name: str) -> _Template:
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None:
            return cached
        text = self._resolve(name, ())
        template = _Template(name, _split_sections(name, text))
        with self._lock:
            self._cache[name] = template
        return template

    def _read(self, name: str) -> str:
        # Names are plain identifiers, so a prompt name can never reach outside the folder.
        if not _NAME.match(name):
            raise PromptError(f"invalid prompt name {name!r}")
        path = self.directory / f"{name}.md"
        try:
            return _COMMENT.sub("", path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PromptError(f"prompt {name!r} not found in {self.directory}") from None

    def _resolve(self, name: str, stack: tuple[str, ...]) -> str:
        """The file's text with every ``{{> include}}`` replaced, recursively."""
        if name in stack:
            cycle = " -> ".join((*stack, name))
            raise PromptError(f"include cycle: {cycle}")
        text = self._read(name)

        def include(match: re.Match[str]) -> str:
            child = match.group(1)
            body = self._resolve(child, (*stack, name))
            if _HEADING.search(body):
                raise PromptError(
                    f"prompt {name!r} includes {child!r}, which has ## sections "
                    "(only fragments can be included)"
                )
            return body.strip("\n")

        return _INCLUDE.sub(include, text)


def _split_sections(name: str, text: str) -> tuple[tuple[str, str], ...]:
    headings = list(_HEADING.finditer(text))
    if not headings:
        return (("user", text),)
    if text[: headings[0].start()].strip():
        raise PromptError(f"prompt {name!r}: text before the first ## system/user heading")
    sections = []
    for i, heading in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
        sections.append((heading.group(1).lower(), text[heading.end() : end]))
    return tuple(sections)
