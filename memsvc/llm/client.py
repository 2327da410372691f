"""The only place memsvc talks to an LLM (through litellm).

Contract: a call either returns a validated value or ``None`` — it never raises on an LLM
fault (timeouts, 429, 5xx, refused connections, malformed or invalid answers, auth errors).
Callers fall back to their offline path on ``None``; the failure is counted in
:class:`~memsvc.llm.usage.LLMUsage` and logged. Programming errors (an unknown prompt, a
missing prompt variable) do raise :class:`~memsvc.llm.prompts.PromptError`: they are bugs.

Retries: timeouts, 408/409/425/429, 5xx, connection errors and answers that fail to parse
or validate are retried with exponential backoff and jitter, honouring ``Retry-After``
(capped); other 4xx (auth, bad request, context too long) are not, as they cannot heal.
After an unparseable answer the retry shows the model its answer and the error
(``prompts/repair.md``): with temperature 0 the same request would get the same answer.
An answer cut off by ``max_tokens`` is instead asked again with twice the budget.

litellm is imported lazily on the first real call, so ``model = "none"`` never loads it,
and with the local cost map so importing it never touches the network.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TypeVar

from pydantic import BaseModel

from memsvc.config import LLMSettings
from memsvc.llm.errors import describe, is_retryable, retry_after, short
from memsvc.llm.parsing import parse_json_as
from memsvc.llm.prompts import PromptError, PromptLibrary
from memsvc.llm.usage import LLMUsage

__all__ = ["PROMPT_HEADER", "LLMClient"]

log = logging.getLogger("memsvc.llm")

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

# Sent with every request: proxies/logs (and the test fixture server) see which task it is.
PROMPT_HEADER = "X-Memsvc-Prompt"
# Longest wait between attempts, whatever Retry-After or the exponential curve say.
MAX_WAIT_S = 30.0
# A truncated answer (finish_reason "length") is retried with twice the max_tokens, up to 4×
# the first budget and never past this.
MAX_TOKENS_CEILING = 16_384

_litellm: ModuleType | None = None
_import_lock = threading.Lock()


def _load_litellm() -> ModuleType:
    global _litellm
    with _import_lock:
        if _litellm is None:
            # Must be set before the import: otherwise litellm fetches its cost map over HTTP.
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            import litellm

            litellm.suppress_debug_info = True
            litellm.drop_params = True  # a provider that lacks e.g. temperature still works
            litellm.telemetry = False  # older releases report usage home; newer ignore it
            litellm.callbacks = []
            litellm.success_callback = []
            litellm.failure_callback = []
            if "LITELLM_LOG" not in os.environ:
                # litellm logs every request at INFO; our own line per call replaces that.
                for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
                    logging.getLogger(name).setLevel(logging.WARNING)
            _litellm = litellm
    return _litellm


@dataclass
class _Answer:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None


class _Retryable(Exception):
    """One attempt failed in a way another attempt may fix."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class LLMClient:
    """Calls the configured model with rendered prompts; thread-safe, never raises on LLM faults."""

    def __init__(
        self,
        settings: LLMSettings,
        prompts: PromptLibrary | None = None,
        *,
        max_wait_s: float = MAX_WAIT_S,
    ) -> None:
        self.settings = settings
        self.max_wait_s = max_wait_s
        self.prompts = prompts if prompts is not None else PromptLibrary(settings.prompts_dir)
        # Everything this client ever did (for /metrics); per-request counts go to `usage=`.
        self.totals = LLMUsage()
        self._closed = threading.Event()

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    def warm_up(self) -> None:
        """Import litellm now (seconds of CPU), so the first request does not pay for it."""
        if self.enabled:
            _load_litellm()

    def close(self) -> None:
        """Stop waiting between retries; later calls return ``None`` at once (shutdown)."""
        self._closed.set()

    # -- public calls ----------------------------------------------------------------------
    def complete_json(
        self,
        prompt: str,
        schema: type[M],
        /,
        *,
        usage: LLMUsage | None = None,
        max_tokens: int | None = None,
        **variables: object,
    ) -> M | None:
        """Render ``prompt``, call the model, return its JSON answer validated as ``schema``.

        ``usage`` receives this call's counts; ``max_tokens`` overrides the setting for this
        call; every other keyword is a prompt variable.
        """
        return self.complete_with(
            prompt,
            lambda text: parse_json_as(text, schema),
            usage=usage,
            max_tokens=max_tokens,
            **variables,
        )

    def complete_text(
        self,
        prompt: str,
        /,
        *,
        usage: LLMUsage | None = None,
        max_tokens: int | None = None,
        **variables: object,
    ) -> str | None:
        """Render ``prompt``, call the model, return its (non-empty, stripped) text answer."""
        return self.complete_with(
            prompt, _non_empty, usage=usage, max_tokens=max_tokens, **variables
        )

    def complete_with(
        self,
        prompt: str,
        parse: Callable[[str], T],
        /,
        *,
        usage: LLMUsage | None = None,
        max_tokens: int | None = None,
        **variables: object,
    ) -> T | None:
        """Like :meth:`complete_json` with any parser; a ``ValueError`` from it means retry."""
        if not self.enabled or self._closed.is_set():
            return None
        messages = self.prompts.render(prompt, **variables)
        local = LLMUsage(calls=1)
        started = time.perf_counter()
        result: T | None = None
        outcome = "failed"
        try:
            budget = max_tokens if max_tokens is not None else self.settings.max_tokens
            result, outcome = self._attempts(prompt, messages, parse, local, max(1, budget))
        finally:
            if result is None:
                local.record_failure()
            self.totals.add(local)
            if usage is not None:
                usage.add(local)
            level = logging.INFO if result is not None else logging.WARNING
            log.log(
                level,
                "llm call model=%s prompt=%s outcome=%s attempts=%d latency_ms=%.0f "
                "prompt_tokens=%d completion_tokens=%d",
                self.settings.model,
                prompt,
                outcome,
                local.retries + 1,
                (time.perf_counter() - started) * 1000,
                local.prompt_tokens,
                local.completion_tokens,
            )
        return result

    # -- internals -------------------------------------------------------------------------
    def _attempts(
        self,
        prompt: str,
        messages: list[dict[str, str]],
        parse: Callable[[str], T],
        local: LLMUsage,
        max_tokens: int,
    ) -> tuple[T | None, str]:
        attempt_messages = messages
        ceiling = min(MAX_TOKENS_CEILING, 4 * max_tokens)
        max_attempts = max(0, self.settings.max_retries) + 1
        reason = "failed"
        for attempt in range(max_attempts):
            if attempt:
                local.record_retry()
            try:
                answer = self._send(prompt, attempt_messages, max_tokens)
                local.record_tokens(answer.prompt_tokens, answer.completion_tokens)
                try:
                    return parse(answer.text), "ok"
                except ValueError as exc:
                    if answer.finish_reason == "length" and max_tokens < ceiling:
                        # Cut off, not malformed: ask again with room to finish.
                        max_tokens = min(ceiling, max_tokens * 2)
                        raise _Retryable(f"answer truncated at max_tokens ({short(exc)})") from exc
                    attempt_messages = self._repair(messages, answer, exc)
                    raise _Retryable(f"invalid answer ({short(exc)})") from exc
            except _Retryable as exc:
                reason = exc.reason
                if attempt + 1 < max_attempts and not self._wait(attempt, exc.retry_after):
                    return None, f"failed: closed during retry after {reason}"
                log.debug("llm retryable failure prompt=%s attempt=%d: %s", prompt, attempt, reason)
            except Exception as exc:  # an error no retry can fix (auth, bad request, ...)
                return None, f"failed: {describe(exc)}"
        return None, f"failed after {max_attempts} attempt(s): {reason}"

    def _send(self, prompt: str, messages: list[dict[str, str]], max_tokens: int) -> _Answer:
        litellm = _load_litellm()
        s = self.settings
        try:
            response = litellm.completion(
                model=s.model,
                messages=messages,
                api_base=s.api_base,
                api_key=s.api_key,
                timeout=s.timeout_s,
                temperature=s.temperature,
                max_tokens=max_tokens,
                # We retry ourselves (parse failures included); the SDK must not retry too.
                max_retries=0,
                extra_headers={PROMPT_HEADER: prompt},
            )
        except Exception as exc:
            wait_hint = retry_after(exc)
            if is_retryable(exc):
                raise _Retryable(describe(exc), wait_hint) from exc
            raise
        choice = response.choices[0]
        text = getattr(choice.message, "content", None) or ""
        finish_reason = getattr(choice, "finish_reason", None)
        if finish_reason == "length":
            log.warning("llm answer truncated by max_tokens=%d prompt=%s", max_tokens, prompt)
        usage = getattr(response, "usage", None)
        return _Answer(
            text=text,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            finish_reason=finish_reason,
        )

    def _repair(
        self, messages: list[dict[str, str]], answer: _Answer, error: ValueError
    ) -> list[dict[str, str]]:
        """The next attempt's messages: the original ones plus the bad answer and the error."""
        try:
            repair = self.prompts.render("repair", error=short(error, 400))
        except PromptError:
            return messages  # a prompts folder without repair.md: resend as is
        bad = {"role": "assistant", "content": answer.text[:4000]}
        return [*messages, bad, *repair]

    def _wait(self, attempt: int, hint: float | None) -> bool:
        """Sleep before the next attempt; False when the client was closed meanwhile."""
        base = max(0.0, self.settings.backoff_s) * (2**attempt)
        # "Equal jitter": at least half the exponential step, so concurrent callers spread out.
        delay = base / 2 + random.uniform(0.0, base / 2)
        if hint is not None:  # the server's Retry-After wins over our own curve
            delay = max(delay, hint)
        return not self._closed.wait(min(delay, self.max_wait_s))


def _non_empty(text: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise ValueError("empty answer")
    return stripped
