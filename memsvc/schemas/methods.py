"""Turn a call of `memsvc.schemas.calls` into a method of a class that can `_send` it.

    class SyncMemoryAPI:
        add = sync_method(calls.add)       # client.add(...) -> AddResult
    class AsyncMemoryAPI:
        add = async_method(calls.add)      # await aclient.add(...) -> AddResult

`Memory` and `MemoryClient` subclass `SyncMemoryAPI`, `AsyncMemoryClient` `AsyncMemoryAPI`.

The method keeps the call's signature (for mypy through `ParamSpec`, for `inspect` and `help()`
through `__signature__`/`__doc__`), so the three surfaces cannot drift apart: their parameters
are written once, in `calls`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, Generic, ParamSpec, Protocol, Self, TypeVar, overload

from memsvc.schemas import calls
from memsvc.schemas.calls import Call

P = ParamSpec("P")
T = TypeVar("T")


class SyncSender(Protocol):
    def _send(self, call: Call[T], /) -> T: ...


class AsyncSender(Protocol):
    async def _send(self, call: Call[T], /) -> T: ...


class _Method(Generic[P, T]):
    """A descriptor that looks like a plain function on the class (`Cls.add(obj, ...)`,
    `inspect.signature(Cls.add)` with `self` first) and a bound method on an instance."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        self.build = build
        self.__name__, self.__qualname__ = build.__name__, build.__qualname__
        self.__doc__, self.__wrapped__ = build.__doc__, build
        sig = inspect.signature(build)
        me = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        # Annotations are strings under `from __future__ import annotations`; the return is the
        # method's result, not the Call, so it is dropped rather than misreported.
        self.bound_signature = sig.replace(return_annotation=inspect.Signature.empty)
        self.__signature__ = self.bound_signature.replace(parameters=[me, *sig.parameters.values()])

    def __set_name__(self, owner: type, name: str) -> None:
        if name != self.build.__name__:
            raise TypeError(f"{owner.__name__}.{name} is bound to {self.build.__name__}")


class SyncMethod(_Method[P, T]):
    @overload
    def __get__(self, obj: None, owner: type) -> Self: ...
    @overload
    def __get__(self, obj: SyncSender, owner: type) -> Callable[P, T]: ...
    def __get__(self, obj: SyncSender | None, owner: type) -> Self | Callable[P, T]:
        if obj is None:
            return self
        build, send = self.build, obj._send

        @functools.wraps(build)
        def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return send(build(*args, **kwargs))

        method.__signature__ = self.bound_signature  # type: ignore[attr-defined]
        return method

    def __call__(self, obj: SyncSender, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return obj._send(self.build(*args, **kwargs))


class AsyncMethod(_Method[P, T]):
    @overload
    def __get__(self, obj: None, owner: type) -> Self: ...
    @overload
    def __get__(self, obj: AsyncSender, owner: type) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(
        self, obj: AsyncSender | None, owner: type
    ) -> Self | Callable[P, Coroutine[Any, Any, T]]:
        if obj is None:
            return self
        build, send = self.build, obj._send

        # Validation runs when the coroutine is awaited, as it did in a hand-written
        # `async def`, so an invalid call raises at the `await`.
        @functools.wraps(build)
        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return await send(build(*args, **kwargs))

        method.__signature__ = self.bound_signature  # type: ignore[attr-defined]
        return method

    async def __call__(self, obj: AsyncSender, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await obj._send(self.build(*args, **kwargs))


def sync_method(build: Callable[P, Call[T]]) -> SyncMethod[P, T]:
    return SyncMethod(build)


def async_method(build: Callable[P, Call[T]]) -> AsyncMethod[P, T]:
    return AsyncMethod(build)


class SyncMemoryAPI:
    """The public calls as blocking methods, listed once for `Memory` and `MemoryClient`: a
    subclass only says how a call is sent (`_send`)."""

    def _send(self, call: Call[T], /) -> T:
        raise NotImplementedError

    add = sync_method(calls.add)
    add_many = sync_method(calls.add_many)
    search = sync_method(calls.search)
    get = sync_method(calls.get)
    get_all = sync_method(calls.get_all)
    update = sync_method(calls.update)
    delete = sync_method(calls.delete)
    delete_all = sync_method(calls.delete_all)
    history = sync_method(calls.history)
    links = sync_method(calls.links)
    get_episode = sync_method(calls.get_episode)
    reflect = sync_method(calls.reflect)
    add_thought = sync_method(calls.add_thought)
    erase_user = sync_method(calls.erase_user)


class AsyncMemoryAPI:
    """The public calls as coroutine methods (`AsyncMemoryClient`)."""

    async def _send(self, call: Call[T], /) -> T:
        raise NotImplementedError

    add = async_method(calls.add)
    add_many = async_method(calls.add_many)
    search = async_method(calls.search)
    get = async_method(calls.get)
    get_all = async_method(calls.get_all)
    update = async_method(calls.update)
    delete = async_method(calls.delete)
    delete_all = async_method(calls.delete_all)
    history = async_method(calls.history)
    links = async_method(calls.links)
    get_episode = async_method(calls.get_episode)
    reflect = async_method(calls.reflect)
    add_thought = async_method(calls.add_thought)
    erase_user = async_method(calls.erase_user)
