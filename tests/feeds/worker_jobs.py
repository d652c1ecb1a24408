"""Functions run in worker processes by the worker-pool tests (importable, picklable)."""

from __future__ import annotations

import os
import re
import time

from bot.feeds.errors import ParseError


def add(a: int, b: int) -> int:
    return a + b


def pid() -> int:
    return os.getpid()


def fail_parse(reason: str) -> None:
    raise ParseError(reason)


class _Odd(Exception):
    def __init__(self, a: int, b: int) -> None:  # not picklable the default way
        super().__init__(f"{a}/{b}")


def fail_odd() -> None:
    raise _Odd(1, 2)


def backtrack(n: int) -> bool:
    """Catastrophic regex backtracking: stuck in C code, holding the GIL."""
    return re.match(r"(a+)+$", "a" * n + "b") is not None


def hog(megabytes: int) -> int:
    """Grow by ``megabytes`` in steps, slowly enough to be watched."""
    kept = []
    for _ in range(megabytes // 8):
        kept.append(bytearray(8 * 1024 * 1024))
        time.sleep(0.01)
    return len(kept)


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def die() -> None:
    os._exit(3)
