"""Pytest fixtures for the fixture LLM server (register with ``pytest_plugins``).

``llm_server`` starts a fresh :class:`~tests.support.llm_server.FixtureLLMServer` per test
and stops it afterwards; :func:`llm_settings` points memsvc's LLM settings at it with short
timeouts and backoffs, so fault tests stay fast.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from memsvc.config import LLMSettings
from tests.support.llm_server import FixtureLLMServer

__all__ = ["llm_server", "llm_settings"]


def llm_settings(server: FixtureLLMServer, **overrides: object) -> LLMSettings:
    """Settings for the real litellm path against ``server`` (model ``openai/fixture``)."""
    values: dict[str, object] = {
        "model": "openai/fixture",
        "api_base": server.url,
        "api_key": "test",
        "timeout_s": 1.0,
        "max_retries": 2,
        "backoff_s": 0.01,
        "batch_size": 4,
        # Tests of the LLM's decisions wait for them; the bound has tests of its own
        # (tests/api/test_overload.py) and a cold litellm import alone takes seconds.
        "wait_bound_s": None,
    }
    values.update(overrides)
    return LLMSettings.model_validate(values)


@pytest.fixture
def llm_server() -> Iterator[FixtureLLMServer]:
    """A running fixture server on 127.0.0.1 (``.url``, ``.rules``, ``.requests``, ``.reset()``)."""
    server = FixtureLLMServer().start()
    try:
        yield server
    finally:
        server.stop()
