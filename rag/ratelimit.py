"""Rate limiting by token bucket, one bucket per client, in process (one server process serves the
index; several would each count on their own)."""

from __future__ import annotations

import threading
from collections import OrderedDict


class TokenBuckets:
    """Each key's bucket holds up to ``burst`` tokens and refills at ``per_minute / 60`` a second; a
    request takes one. The least recently seen keys are forgotten past ``max_keys`` (a forgotten
    client starts again with a full bucket), so memory stays bounded whatever the addresses."""

    def __init__(self, per_minute: float, burst: int, max_keys: int = 100_000) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("per_minute must be positive and burst at least 1")
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str, now: float) -> float:
        """0.0 when ``key`` may make a request now (a token is taken), else the seconds until it may."""
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + max(0.0, now - at) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait

    def __len__(self) -> int:
        return len(self._buckets)
