"""API keys to namespaces: the one rule both front doors (the REST API and MCP over HTTP) apply.

Kept apart from either so that neither imports the other for it: the app mounts the MCP
endpoint (api -> mcp), and MCP resolves a caller's namespace here, not through `memsvc.api`.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from memsvc.errors import Unauthorized

DEFAULT_NAMESPACE = "default"


def namespace_for(headers: Mapping[str, str], keys: Mapping[str, str]) -> str:
    """The namespace of the API key in `headers` (`Authorization: Bearer <key>` or
    `X-API-Key`); with no keys configured, everyone shares 'default'."""
    if not keys:
        return DEFAULT_NAMESPACE
    header = headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    token = token or headers.get("x-api-key", "")
    for key, namespace in keys.items():
        if token and hmac.compare_digest(token.encode(), key.encode()):
            return namespace
    raise Unauthorized("missing or invalid API key (send 'Authorization: Bearer <key>')")
