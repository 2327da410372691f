"""Domain errors raised by services and mapped to HTTP statuses by the API (and re-raised as
the same classes by the in-process `Memory`). Each carries a stable machine-readable code."""

from __future__ import annotations

from typing import Any


class MemsvcError(Exception):
    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(MemsvcError):
    status = 422
    code = "invalid_input"


class ScopeRequired(InvalidInput):
    code = "scope_required"


class NotFound(MemsvcError):
    status = 404
    code = "not_found"


class Unauthorized(MemsvcError):
    status = 401
    code = "unauthorized"


class PayloadTooLarge(MemsvcError):
    status = 413
    code = "payload_too_large"


class Conflict(MemsvcError):
    status = 409
    code = "conflict"


class ConfigurationError(MemsvcError):
    """The service cannot start with this configuration (e.g. embedding dimension mismatch)."""

    code = "configuration_error"
