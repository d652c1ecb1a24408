"""How the fake behaves in time and under faults: answer latency and injected failures."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.testing.errors import FakeApiError

__all__ = ["Fault", "FaultKind", "Faults", "Latency", "LatencyPlan"]


@dataclass(frozen=True, slots=True)
class Latency:
    """A round trip of ``mean`` seconds, uniformly spread by ``± jitter`` (never below 0).

    Half of it passes before the server handles a request and half before the answer
    leaves, like the two legs of a real round trip: a client that gives up during the
    second half has had its message delivered all the same.
    """

    mean: float = 0.0
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.mean < 0 or self.jitter < 0:
            raise ValueError(f"latency must not be negative: {self!r}")

    def sample(self, rng: random.Random) -> float:
        if not self.jitter:
            return self.mean
        return max(0.0, rng.uniform(self.mean - self.jitter, self.mean + self.jitter))

    @classmethod
    def parse(cls, text: str) -> Latency:
        """``"0.15"`` or ``"0.15:0.05"`` (mean and jitter in seconds)."""
        mean, _, jitter = text.partition(":")
        try:
            return cls(float(mean), float(jitter) if jitter else 0.0)
        except ValueError as error:
            raise ValueError(f"bad latency {text!r}: expected SECONDS[:JITTER] ({error})") from None

    def to_json(self) -> dict[str, float]:
        return {"mean": self.mean, "jitter": self.jitter}


LatencyLike = Latency | float


def as_latency(value: LatencyLike) -> Latency:
    return value if isinstance(value, Latency) else Latency(float(value))


class LatencyPlan:
    """The latency of every method: a default and per-method exceptions (case-insensitive)."""

    def __init__(
        self,
        default: LatencyLike = 0.0,
        per_method: Mapping[str, LatencyLike] | None = None,
        seed: int | None = None,
    ) -> None:
        self.default = as_latency(default)
        self.per_method = {k.lower(): as_latency(v) for k, v in (per_method or {}).items()}
        self._rng = random.Random(seed)

    def set(self, latency: LatencyLike, method: str | None = None) -> None:
        if method is None:
            self.default = as_latency(latency)
        else:
            self.per_method[method.lower()] = as_latency(latency)

    def of(self, method: str) -> Latency:
        return self.per_method.get(method.lower(), self.default)

    def sample(self, method: str) -> float:
        return self.of(method).sample(self._rng)

    def to_json(self) -> dict[str, object]:
        return {
            "default": self.default.to_json(),
            "per_method": {k: v.to_json() for k, v in self.per_method.items()},
        }


class FaultKind(StrEnum):
    ERROR = "error"  # answered with an error; the request has no effect
    LOSE = "lose"  # handled (a message is delivered), then the connection is closed unanswered
    HANG = "hang"  # handled, and the answer never comes: the client must time out


@dataclass(slots=True)
class Fault:
    remaining: int
    kind: FaultKind
    error: FakeApiError | None = None


class Faults:
    """Failures queued per method for the next calls; ``"*"`` matches any method."""

    def __init__(self) -> None:
        self._queued: dict[str, deque[Fault]] = {}

    def add(self, method: str, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("a fault needs a count of at least 1")
        if fault.kind is FaultKind.ERROR and fault.error is None:
            raise ValueError("an error fault needs its error")
        self._queued.setdefault(method.lower(), deque()).append(fault)

    def take(self, method: str) -> Fault | None:
        """The fault for this call of ``method``, if any (a method's own faults come first)."""
        for key in (method.lower(), "*"):
            queue = self._queued.get(key)
            if queue:
                fault = queue[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.popleft()
                return fault
        return None

    def clear(self) -> None:
        self._queued.clear()

    def pending(self) -> dict[str, int]:
        """How many faulty calls are still queued, per method."""
        return {k: sum(f.remaining for f in q) for k, q in self._queued.items() if q}
