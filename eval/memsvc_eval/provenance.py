"""Provenance of a run: git revision, dirty flag, and a hash of the source it ran."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


# What the numbers depend on: hashed as files, so uncommitted or untracked edits show too.
SOURCE_DIRS = ("memsvc", "eval/memsvc_eval")  # prompts live in memsvc/prompts


def source_hash(root: Path) -> str:
    """sha256 over the path and content of every .py/.md file under SOURCE_DIRS."""
    h = hashlib.sha256()
    for d in SOURCE_DIRS:
        for f in sorted((root / d).rglob("*")):
            if f.suffix in (".py", ".md") and f.is_file():
                h.update(f.relative_to(root).as_posix().encode() + b"\x00")
                h.update(f.read_bytes() + b"\x01")
    return h.hexdigest()


def git_info(repo: Path | None = None) -> dict[str, Any]:
    root = repo or REPO

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=normal", "--", *SOURCE_DIRS)
    return {
        "revision": git("rev-parse", "HEAD"),
        # Modified or untracked (not ignored) files in the source folders.
        "dirty": bool(status) if status is not None else None,
        "source_sha256": source_hash(root),
    }
