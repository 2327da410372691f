"""The built wheel runs on its own: migrations, alembic.ini and prompts ship inside it.

Builds the wheel from a copy of the source, installs it (without dependencies) into a fresh
virtual environment whose only other packages are this venv's site-packages (appended through
a .pth file, so nothing is downloaded and the editable install is not picked up), and runs
`Memory()` add + search from a folder outside the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys, memsvc
from memsvc import Memory
from memsvc.llm import PromptLibrary
with Memory() as m:
    m.add("I'm allergic to peanuts.", user_id="bob")
    m.add("My sister lives in Lisbon.", user_id="bob")
    hit = m.search("which foods are unsafe for me?", user_id="bob", top_k=1).results[0]
print(json.dumps({"file": memsvc.__file__, "hit": hit.memory,
                  "prompts": len(PromptLibrary().names())}))
"""


def _run(cmd: list[str], **kwargs: Any) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert out.returncode == 0, f"{cmd}\n{out.stdout}\n{out.stderr}"
    return out.stdout


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_repository(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "out")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("memsvc", "eval"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip", "-q"]
    _run(
        [
            *pip,
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(dist),
            str(src),
        ]
    )
    (wheel,) = dist.glob("memsvc-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "memsvc/alembic.ini",
        "memsvc/migrations/env.py",
        "memsvc/migrations/script.py.mako",
        "memsvc/prompts/answer.md",
        "memsvc/ui/static/index.html",
        "memsvc/ui/static/app.js",
    ):
        assert needed in names
    assert any(n.startswith("memsvc/migrations/versions/") for n in names)

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    py = venv / "bin" / "python"
    _run([*pip, "--python", str(py), "install", "--no-deps", "--no-index", str(wheel)])
    # The dependencies come from this venv's site-packages, after the wheel's own folder.
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    target = Path(_run([str(py), "-c", purelib]).strip())
    (target / "zz_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")

    work = tmp_path / "outside"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMSVC_")}
    env |= {"HF_HUB_OFFLINE": "1", "PYTHONPATH": ""}  # Memory()'s default folder
    env["MEMSVC_EMBED__QUERY_ENGINE"] = "torch"  # the ONNX export is tested elsewhere
    out = _run([str(py), "-c", SCRIPT], cwd=work, env=env, timeout=300)
    result = json.loads(out.strip().splitlines()[-1])
    assert Path(result["file"]).is_relative_to(venv)  # the wheel, not the checkout
    assert result["hit"] == "I'm allergic to peanuts."
    assert result["prompts"] >= 10
    assert (work / "memsvc-local" / "memsvc.db").exists()
