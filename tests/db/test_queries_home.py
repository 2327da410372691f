"""Hand-written SQL lives in `memsvc.db.queries` (issue 18 item 6): no use case builds a
statement from text (`sqlalchemy.text` or `literal_column`, imported or as an attribute), so
every plain statement has one home whose docstring says why it is written by hand."""

from __future__ import annotations

import ast
from pathlib import Path

import memsvc.services

SERVICES = Path(memsvc.services.__file__).parent


def _text_uses(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            lines += [node.lineno for a in node.names if a.name in ("text", "literal_column")]
        if isinstance(node, ast.Attribute) and node.attr in ("text", "literal_column"):
            base = node.value
            if isinstance(base, ast.Name) and base.id in ("sa", "sqlalchemy"):
                lines.append(node.lineno)
    return lines


def test_no_service_writes_sql_text() -> None:
    found = {
        str(path.relative_to(SERVICES)): lines
        for path in sorted(SERVICES.rglob("*.py"))
        if (lines := _text_uses(ast.parse(path.read_text())))
    }
    assert found == {}, f"SQL text in services (move it to memsvc.db.queries): {found}"
