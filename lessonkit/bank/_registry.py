"""The table of self-checks: ``id -> factory`` (filled by the lesson modules)."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["CHECKS", "register"]

CHECKS: dict[str, Callable[[], object]] = {}


def register(check_id: str) -> Callable[[Callable[[], object]], Callable[[], object]]:
    """Record the decorated factory as self-check ``check_id`` (ids are unique)."""

    def record(factory: Callable[[], object]) -> Callable[[], object]:
        if check_id in CHECKS:
            raise ValueError(f"self-check {check_id!r} is defined twice")
        CHECKS[check_id] = factory
        return factory

    return record
