"""Hand-written SQL lives in `memsvc.db.queries` (issue 18 item 6): no use case builds a
statement from text (`sqlalchemy.text` or `literal_column`, imported or as an attribute), so
every plain statement has one home whose docstring says why it is written by hand."""

from __future__ import annotations

import ast
from pathlib import Path

import memsvc

PACKAGE = Path(memsvc.__file__).parent
# Everything above the database layer: use cases, HTTP, the other front doors and the stores.
ABOVE_DB = ["services", "api", "mcp", "stores", "ui", "local.py", "runtime.py", "background.py"]


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


def _files() -> list[Path]:
    out: list[Path] = []
    for name in ABOVE_DB:
        path = PACKAGE / name
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return out


def test_no_layer_above_the_database_writes_sql_text() -> None:
    files = _files()
    assert len(files) > 50  # the folders exist: a rename must not empty this check
    found = {
        str(path.relative_to(PACKAGE)): lines
        for path in files
        if (lines := _text_uses(ast.parse(path.read_text())))
    }
    assert found == {}, f"SQL text above the database layer (move it to memsvc.db.queries): {found}"
