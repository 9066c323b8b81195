"""Service transactions without savepoints nobody needs.

Every write service runs in one transaction (``@transaction.atomic``). Called inside another
transaction, ``atomic`` opens a savepoint (SAVEPOINT … RELEASE, two statements): it lets a caller
catch the service's error and go on in the same transaction with the service's writes undone.
Callers that never do that — a carrier event either applies as a whole or not at all — wrap their
work in ``all_or_nothing()``; the services decorated with ``service`` then join that transaction
without a savepoint of their own. An error still undoes everything: it leaves the outer block,
whose transaction (or savepoint) is rolled back.

Everywhere else (the screens, the tests that catch a refusal and read on) ``service`` is exactly
``transaction.atomic``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import ParamSpec, TypeVar

from django.db import transaction

_ALL_OR_NOTHING: ContextVar[bool] = ContextVar("all_or_nothing", default=False)

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def all_or_nothing() -> Iterator[None]:
    """One transaction (or savepoint, when nested) in which no error is caught and gone on from:
    the services called inside it open no savepoints. Only for code that lets every error leave
    the block."""
    with transaction.atomic():
        token = _ALL_OR_NOTHING.set(True)
        try:
            yield
        finally:
            # Before the commit: what runs after it (transaction.on_commit) is outside the block.
            _ALL_OR_NOTHING.reset(token)


def service(func: Callable[P, R]) -> Callable[P, R]:
    """``@transaction.atomic`` for a write service, without its savepoint inside
    ``all_or_nothing()``."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with transaction.atomic(savepoint=not _ALL_OR_NOTHING.get()):
            return func(*args, **kwargs)

    return wrapper
