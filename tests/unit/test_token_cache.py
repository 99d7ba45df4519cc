"""Tokens verified a moment ago: how long an entry is trusted, that it never outlives the
token, that a forgotten token is forgotten at once (even by a look that raced it), and that
the cache stays bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.adapters.token_cache import MemoryTokenCache
from portal.domain.access import Principal, Role
from portal.domain.identities import trusted_until

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def _principal(token_id: str = "tok1") -> Principal:
    return Principal(token_id=token_id, role=Role.agency_uploader, inspection_id="i", agency="a")


def test_a_verified_token_is_trusted_for_the_cache_seconds() -> None:
    assert trusted_until(T0, 5, None) == T0 + 5 * S
    assert trusted_until(T0, 5, T0 + 3600 * S) == T0 + 5 * S


def test_a_token_expiring_sooner_than_the_cache_seconds_is_trusted_only_until_it_expires() -> None:
    assert trusted_until(T0, 5, T0 + 2 * S) == T0 + 2 * S


def test_an_entry_answers_from_its_verification_until_its_end_and_not_after() -> None:
    cache = MemoryTokenCache()
    cache.put("h", _principal(), T0, T0 + 5 * S, cache.generation())
    assert cache.get("h", T0) == _principal()
    assert cache.get("h", T0 + 4.999 * S) == _principal()
    assert cache.get("h", T0 + 5 * S) is None
    # Once past, it is gone: a clock set back does not bring it back.
    assert cache.get("h", T0) is None


def test_an_entry_is_not_trusted_before_it_was_verified() -> None:
    cache = MemoryTokenCache()
    cache.put("h", _principal(), T0, T0 + 5 * S, cache.generation())
    assert cache.get("h", T0 - S) is None


def test_an_entry_that_would_end_at_once_is_not_kept() -> None:
    cache = MemoryTokenCache()
    cache.put("h", _principal(), T0, T0, cache.generation())
    assert len(cache) == 0


def test_forgetting_a_token_drops_its_entries_and_no_other() -> None:
    cache = MemoryTokenCache()
    cache.put("h1", _principal("tok1"), T0, T0 + 5 * S, cache.generation())
    cache.put("h2", _principal("tok2"), T0, T0 + 5 * S, cache.generation())
    cache.forget("tok1")
    assert cache.get("h1", T0) is None
    assert cache.get("h2", T0) == _principal("tok2")


def test_a_look_begun_before_a_revocation_is_not_kept_after_it() -> None:
    cache = MemoryTokenCache()
    generation = cache.generation()  # a request starts looking the token up...
    cache.forget("tok1")  # ...meanwhile the token is revoked here...
    cache.put("h", _principal("tok1"), T0, T0 + 5 * S, generation)  # ...its look ends
    assert cache.get("h", T0) is None


def test_the_cache_keeps_at_most_its_bound_dropping_the_least_recently_used() -> None:
    cache = MemoryTokenCache(max_entries=3)
    for n in range(3):
        cache.put(f"h{n}", _principal(f"tok{n}"), T0, T0 + 5 * S, cache.generation())
    assert cache.get("h0", T0) is not None  # h0 used: h1 is now the least recently used
    cache.put("h3", _principal("tok3"), T0, T0 + 5 * S, cache.generation())
    assert len(cache) == 3
    assert cache.get("h1", T0) is None
    assert all(cache.get(k, T0) is not None for k in ("h0", "h2", "h3"))
