"""The web UI: static HTML/JS/CSS in `static/`, served by the API at /ui (no CDN, no build)."""

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"

__all__ = ["STATIC_DIR"]
