"""The LLM tests use the fixture server; the root conftest may register it too."""

from tests.support.llm_fixtures import llm_server

__all__ = ["llm_server"]
