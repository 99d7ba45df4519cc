"""Which signatures judge a file: clamd's VERSION reply read, databases told apart by
their marker, and signatures judged fit for real documents or not."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from portal.domain.scanning import parse_scan_reply
from portal.domain.signatures import (
    LOCAL_TEST_DATABASE_ID,
    MARKER_FILE,
    PROBE,
    ClamdVersion,
    DegradedBecause,
    SignatureKind,
    Signatures,
    age_words,
    database_id,
    database_id_of,
    is_database_file,
    is_local_test_version,
    judge_signatures,
    marker_line,
    parse_version_reply,
    signatures_of,
)
from portal.settings import REPO_ROOT

NOW = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)
THREE_DAYS = timedelta(days=3)


def test_a_version_reply_names_the_engine_the_database_version_and_its_date() -> None:
    parsed = parse_version_reply("ClamAV 1.4.3/27505/Tue Dec  6 08:23:00 2026\n")
    assert parsed == ClamdVersion(
        engine="1.4.3",
        database_version=27505,
        database_date=datetime(2026, 12, 6, 8, 23, tzinfo=UTC),
    )


def test_a_two_digit_day_reads_as_well_as_a_padded_one() -> None:
    parsed = parse_version_reply("ClamAV 1.4.6/27600/Sat Nov 28 03:00:00 2026\0")
    assert parsed.database_date == datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def test_with_local_databases_only_the_reply_names_the_engine_alone() -> None:
    assert parse_version_reply("ClamAV 1.4.6") == ClamdVersion(engine="1.4.6")


def test_a_database_version_of_zero_or_without_a_date_is_read_as_far_as_it_goes() -> None:
    assert parse_version_reply("ClamAV 1.4.6/0/Thu Jan  1 00:00:00 1970") == ClamdVersion(
        engine="1.4.6"
    )
    assert parse_version_reply("ClamAV 1.4.6/27505") == ClamdVersion(
        engine="1.4.6", database_version=27505
    )
    unreadable = parse_version_reply("ClamAV 1.4.6/27505/sometime last week")
    assert unreadable.database_version == 27505 and unreadable.database_date is None


@pytest.mark.parametrize("reply", ["", "PONG", "stream: OK", "ClamAV", "clamav 1.4.6"])
def test_anything_but_a_version_reply_is_refused(reply: str) -> None:
    with pytest.raises(ValueError, match="VERSION"):
        parse_version_reply(reply)


def test_the_marker_names_the_database_clamd_has_loaded() -> None:
    reply = parse_scan_reply("stream: Jtai.Signatures.0123456789abcdef.UNOFFICIAL FOUND")
    assert database_id_of(reply) == "0123456789abcdef"
    assert database_id_of(parse_scan_reply("stream: Jtai.Signatures.0123456789abcdef FOUND")) == (
        "0123456789abcdef"
    )


def test_a_database_without_a_marker_names_none() -> None:
    assert database_id_of(parse_scan_reply("stream: OK")) is None
    assert database_id_of(parse_scan_reply("stream: Win.Test.EICAR_HDB-1 FOUND")) is None


def test_a_reply_to_the_probe_that_is_no_verdict_is_refused() -> None:
    with pytest.raises(ValueError):
        database_id_of(parse_scan_reply("INSTREAM size limit exceeded. ERROR"))


def test_the_marker_line_is_a_body_signature_of_the_probe() -> None:
    name, target, offset, pattern = marker_line("0123456789abcdef").strip().split(":")
    assert (name, target, offset) == ("Jtai.Signatures.0123456789abcdef", "0", "*")
    assert bytes.fromhex(pattern) == PROBE


def test_a_database_id_changes_with_any_file_but_not_with_its_marker_or_order() -> None:
    files = {"main.cvd": "a" * 64, "local.ndb": "b" * 64}
    same = database_id({"local.ndb": "b" * 64, "main.cvd": "a" * 64, MARKER_FILE: "c" * 64})
    assert database_id(files) == same
    assert database_id({**files, "local.ndb": "d" * 64}) != database_id(files)
    assert database_id({**files, "more.hdb": "e" * 64}) != database_id(files)
    assert len(database_id(files)) == 16


def test_the_portals_test_database_carries_the_marker_of_its_own_id() -> None:
    folder = REPO_ROOT / "infra/clamd/db"
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    assert database_id(files) == LOCAL_TEST_DATABASE_ID, (
        "infra/clamd/db changed: set LOCAL_TEST_DATABASE_ID to its new id and rewrite "
        f"{MARKER_FILE} with marker_line(the id)"
    )
    assert (folder / MARKER_FILE).read_text() == marker_line(LOCAL_TEST_DATABASE_ID)


@pytest.mark.parametrize(
    ("name", "loaded"),
    [
        ("main.cvd", True),
        ("daily.cld", True),
        ("daily.cud", True),
        ("jtai-local-test.ndb", True),
        ("bad.hdb", True),
        ("x.HSB", True),
        ("freshclam.dat", False),
        ("mirrors.dat", False),
        ("README.txt", False),
        (".main.cvd.tmp", False),
    ],
)
def test_database_files_are_those_libclamav_loads(name: str, loaded: bool) -> None:
    assert is_database_file(name) is loaded


def _signatures(**fields: object) -> Signatures:
    return Signatures(engine="1.4.6", **fields)  # type: ignore[arg-type]


def test_the_version_a_verdict_records_tells_databases_apart() -> None:
    assert _signatures(database_version=27505).version == "27505"
    assert (
        _signatures(database_version=27505, database_id="0123456789abcdef").version
        == "27505+0123456789abcdef"
    )
    assert _signatures(database_id="0123456789abcdef").version == "local+0123456789abcdef"
    assert _signatures().version == "local"
    assert is_local_test_version(_signatures(database_id=LOCAL_TEST_DATABASE_ID).version)
    assert not is_local_test_version(_signatures(database_id="0123456789abcdef").version)


def test_signatures_are_official_local_or_the_portals_test_ones() -> None:
    assert _signatures(database_version=1, database_id=LOCAL_TEST_DATABASE_ID).kind is (
        SignatureKind.official
    )
    assert _signatures(database_id=LOCAL_TEST_DATABASE_ID).kind is SignatureKind.test
    assert _signatures(database_id="0123456789abcdef").kind is SignatureKind.local
    assert _signatures().kind is SignatureKind.local


def test_signatures_of_joins_the_version_reply_and_the_marker() -> None:
    version = parse_version_reply("ClamAV 1.4.6/27505/Tue Dec  6 08:23:00 2026")
    joined = signatures_of(version, "0123456789abcdef")
    assert joined.version == "27505+0123456789abcdef"
    assert joined.database_date == datetime(2026, 12, 6, 8, 23, tzinfo=UTC)


def test_only_the_test_signatures_is_degraded_and_says_so_plainly() -> None:
    state = judge_signatures(_signatures(database_id=LOCAL_TEST_DATABASE_ID), NOW, THREE_DAYS)
    assert state.degraded and state.degraded_because is DegradedBecause.test_signatures_only
    assert "Only the portal's local test signatures are loaded" in state.warning
    assert state.age is None


def test_local_signatures_alone_are_degraded() -> None:
    state = judge_signatures(_signatures(database_id="0123456789abcdef"), NOW, THREE_DAYS)
    assert state.degraded_because is DegradedBecause.no_official_signatures


def test_official_signatures_within_the_age_allowed_are_fit() -> None:
    published = NOW - timedelta(days=2, hours=23)
    state = judge_signatures(
        _signatures(database_version=27505, database_date=published), NOW, THREE_DAYS
    )
    assert not state.degraded and state.warning == ""
    assert state.age == timedelta(days=2, hours=23)


def test_official_signatures_older_than_allowed_are_stale() -> None:
    published = NOW - timedelta(days=3, hours=1)
    state = judge_signatures(
        _signatures(database_version=27505, database_date=published), NOW, THREE_DAYS
    )
    assert state.degraded_because is DegradedBecause.signatures_stale
    assert "3 days 1 hour old, older than the 3 days allowed" in state.warning


def test_official_signatures_without_a_date_have_an_unknown_age() -> None:
    state = judge_signatures(_signatures(database_version=27505), NOW, THREE_DAYS)
    assert state.degraded_because is DegradedBecause.signatures_age_unknown


def test_a_date_ahead_of_the_clock_is_no_age_at_all() -> None:
    state = judge_signatures(
        _signatures(database_version=1, database_date=NOW + timedelta(hours=2)), NOW, THREE_DAYS
    )
    assert state.age == timedelta(0) and not state.degraded


def test_ages_read_in_days_and_hours() -> None:
    assert age_words(timedelta(days=3)) == "3 days"
    assert age_words(timedelta(days=1, hours=1, minutes=59)) == "1 day 1 hour"
    assert age_words(timedelta(hours=5)) == "5 hours"
    assert age_words(timedelta(minutes=59)) == "less than an hour"
