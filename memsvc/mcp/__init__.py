"""memsvc as an MCP server (the official `mcp` SDK): tools for add, search, get, list, update,
delete and history, and resources for a scope's memories. Served over stdio by `memsvc mcp`
and over streamable HTTP at `/mcp` by the API (same API keys, same scopes)."""

from memsvc.mcp.server import build_server

__all__ = ["build_server"]
