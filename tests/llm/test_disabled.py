"""``model = "none"``: no call, no litellm import, everything returns None."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from memsvc.config import LLMSettings
from memsvc.llm.client import LLMClient
from memsvc.llm.tasks import NewNote, memorize
from memsvc.llm.usage import LLMUsage
from tests.support.llm_fixtures import llm_settings
from tests.support.llm_server import FixtureLLMServer

REPO = Path(__file__).resolve().parents[2]


def test_disabled_client_makes_no_request(llm_server: FixtureLLMServer) -> None:
    # Pointed at a live server, but model "none": nothing may reach it.
    client = LLMClient(llm_settings(llm_server, model="none"))
    usage = LLMUsage()
    assert not client.enabled
    assert client.complete_text("repair", usage=usage, error="x") is None
    assert memorize(client, [NewNote(0, "user", "hi"), NewNote(1, "user", "yo")]) == [None, None]
    assert llm_server.requests == []
    assert usage == LLMUsage() and client.totals == LLMUsage()


def test_disabled_path_never_imports_litellm() -> None:
    script = textwrap.dedent(
        """
        import sys
        from memsvc.config import LLMSettings
        from memsvc.llm import LLMClient, NewNote, distill_thought, memorize
        client = LLMClient(LLMSettings(model="none"))
        assert memorize(client, [NewNote(0, "user", "I moved to Berlin")]) == [None]
        assert distill_thought(client, question="q", answer="a", memories=["m"]) is None
        print("litellm" in sys.modules, "openai" in sys.modules)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_enabled_follows_model_setting() -> None:
    assert not LLMClient(LLMSettings()).enabled
    assert not LLMClient(LLMSettings(model=" None ")).enabled
    assert LLMClient(LLMSettings(model="ollama/llama3.1")).enabled


def test_enabled_path_touches_no_outside_network() -> None:
    # Importing and calling litellm must not reach anything but the fixture server on
    # 127.0.0.1: no cost-map download, no telemetry. Guarded in a fresh interpreter.
    script = textwrap.dedent(
        """
        import socket
        outside = []
        real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

        def connect(self, address):
            host = address[0] if isinstance(address, tuple) else str(address)
            if host not in ("127.0.0.1", "localhost") and not str(host).startswith("/"):
                outside.append(host)
                raise OSError("outside network blocked by test")
            return real_connect(self, address)

        def getaddrinfo(host, *args, **kwargs):
            if host not in ("127.0.0.1", "localhost", None):
                outside.append(host)
                raise socket.gaierror("outside DNS blocked by test")
            return real_getaddrinfo(host, *args, **kwargs)

        socket.socket.connect = connect
        socket.getaddrinfo = getaddrinfo

        from memsvc.llm import LLMClient
        from tests.support.llm_fixtures import llm_settings
        from tests.support.llm_server import FixtureLLMServer

        with FixtureLLMServer() as server:
            client = LLMClient(llm_settings(server))
            answer = client.complete_text("judge_default", question="q", answer="a",
                                          hypothesis="a")
        print(answer, outside)
        """
    )
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("LITELLM_LOCAL_MODEL_COST_MAP", None)  # the client must set it itself
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["yes", "[]"]
