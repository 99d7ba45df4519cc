"""Per-token and per-address request limits, shared by the API's gate and the sign-in page."""

from __future__ import annotations

import time

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from portal.domain.access import Principal
from portal.domain.errors import Refusal, Refused


class RateLimits:
    """Moving-window limits per token and, for requests without a valid one, per address
    (so guessing tokens is slow). In-process: each API process counts on its own."""

    def __init__(self, per_token: str, unauthenticated: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_token = parse_many(per_token)
        self._unauthenticated = parse_many(unauthenticated)

    def spend(self, principal: Principal) -> None:
        """Count one request of this token; Refused (too_many, with the seconds to wait)
        if it is over its limit."""
        self._spend(self._per_token, "token", principal.token_id)

    def refuse_if_exhausted(self, address: str) -> None:
        """Refused (too_many) if this address has used up its unauthenticated requests."""
        for item in self._unauthenticated:
            if not self._limiter.test(item, "anonymous", address):
                raise _too_many(self._retry_after(item, "anonymous", address))

    def spend_unauthenticated(self, address: str) -> None:
        """Count one request from this address that had no valid token."""
        for item in self._unauthenticated:
            self._limiter.hit(item, "anonymous", address)

    def _spend(self, items: list[RateLimitItem], *key: str) -> None:
        for item in items:
            if not self._limiter.hit(item, *key):
                raise _too_many(self._retry_after(item, *key))

    def _retry_after(self, item: RateLimitItem, *key: str) -> int:
        reset = self._limiter.get_window_stats(item, *key).reset_time
        return max(1, int(reset - time.time()) + 1)


def _too_many(retry_after: int) -> Refused:
    return Refused(
        Refusal.too_many,
        "rate_limited",
        "Too many requests",
        f"This token has made too many requests. Wait {retry_after} s and try again.",
        retry_after=retry_after,
    )
