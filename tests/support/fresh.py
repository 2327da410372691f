"""Run a script in a fresh interpreter (what a process that just started has imported is the
point of several embedder tests): JSON in on stdin, the last line of stdout read as JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# Modules a process on the ONNX path must never import.
HEAVY = ("torch", "transformers", "sentence_transformers")
# Appended to a script: which of HEAVY it imported, as `heavy`.
HEAVY_LINE = f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"


def run_fresh(script: str, payload: Any) -> Any:
    out = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
