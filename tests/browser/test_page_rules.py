"""Rules the web pages rely on, checked without a browser: deadlines in words, the signed
session cookie, where sign-in may send the browser back to, and checklist keys."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from starlette.requests import Request

from portal.settings import Settings
from portal.web import pages, sessions, views


def _request(host: str) -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": "/", "headers": [(b"host", host.encode())]}
    )


def test_a_deadline_reads_as_time_weekday_day_and_month_in_london_time() -> None:
    due = datetime(2027, 3, 30, 16, 0, tzinfo=UTC)  # 5pm British Summer Time
    assert views.deadline_words(due, now=datetime(2027, 1, 4, tzinfo=UTC)) == "5pm Tuesday 30 March"
    assert views.deadline_words(due, now=datetime(2026, 11, 23, tzinfo=UTC)).endswith("2027")


def test_times_read_the_gov_uk_way() -> None:
    assert views.time_words(datetime(2026, 12, 1, 12, 0, tzinfo=UTC)) == "midday"
    assert views.time_words(datetime(2026, 12, 1, 0, 0, tzinfo=UTC)) == "midnight"
    assert views.time_words(datetime(2026, 12, 1, 9, 30, tzinfo=UTC)) == "9:30am"
    assert views.time_words(datetime(2026, 12, 3, 23, 59, tzinfo=UTC)) == "11:59pm"


def test_a_session_cookie_round_trips_and_any_change_to_it_is_refused() -> None:
    key = b"k" * 32
    session = sessions.new_session("ab" * 32)
    value = sessions.encode_session(key, session)
    assert sessions.decode_session(key, value) == session
    payload, _, signature = value.partition(".")
    assert sessions.decode_session(key, payload + "x." + signature) is None
    assert sessions.decode_session(key, payload + "." + signature[:-2] + "AA") is None
    assert sessions.decode_session(b"other" * 8, value) is None
    assert sessions.decode_session(key, "not a cookie") is None


def test_a_session_ends_after_a_working_day() -> None:
    key = b"k" * 32
    session = sessions.new_session("ab" * 32)
    value = sessions.encode_session(key, session)
    later = session.issued + sessions.SESSION_HOURS * 3600 + 1
    assert sessions.decode_session(key, value, now=later) is None


def test_on_localhost_the_session_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    first = sessions.session_key(settings, _request("127.0.0.1:8000"))
    assert sessions.session_key(settings, _request("localhost")) == first
    mode = stat.S_IMODE((tmp_path / sessions.SECRET_FILE).stat().st_mode)
    assert mode == 0o600 and len(first) == 64


def test_beyond_localhost_sessions_need_a_configured_secret(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(sessions.SessionKeyMissing):
        sessions.session_key(settings, _request("portal.example.org"))
    configured = Settings(
        data_dir=tmp_path,
        session_secret="s" * 40,
        _env_file=None,  # type: ignore[call-arg]
    )
    assert sessions.session_key(configured, _request("portal.example.org")) == b"s" * 40
    assert sessions.cookie_name(_request("portal.example.org")) == "__Host-jtai_session"


def test_a_short_or_placeholder_session_secret_is_refused() -> None:
    for secret in ("short", "changeme"):
        with pytest.raises(ValidationError):
            Settings(session_secret=secret, _env_file=None)  # type: ignore[call-arg]


def test_sign_in_only_sends_the_browser_back_to_this_site() -> None:
    assert pages._local_path("/inspections/x/checklist") == "/inspections/x/checklist"
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example", "", None):
        assert pages._local_path(elsewhere) is None


def test_checklist_keys_name_upload_targets() -> None:
    assert views.target_of("1.4") == views.UploadTarget("1.4", "1.4")
    assert views.target_of("list:ilacs_list_4") == views.UploadTarget(
        "list:ilacs_list_4", "list:ilacs_list_4"
    )
    assert views.target_of("case_record:C-12") == views.UploadTarget(
        "case_record:C-12", "case_record", "C-12"
    )
    for nonsense in ("1.", "list:", "case_record:", "audit:../x", "../etc"):
        assert views.target_of(nonsense) is None
