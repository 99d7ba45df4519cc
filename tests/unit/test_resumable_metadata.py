"""The tus header values a resumable upload is created with, read strictly."""

from __future__ import annotations

import base64

import pytest

from portal.domain.resumable import (
    MAX_METADATA_BYTES,
    MetadataInvalid,
    encode_metadata,
    parse_length,
    parse_metadata,
)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_metadata_keeps_the_known_keys_decoded_and_ignores_others() -> None:
    header = f"filename {_b64('Plan ü.pdf')},filetype {_b64('application/pdf')}, other {_b64('x')}"
    assert parse_metadata(header) == {"filename": "Plan ü.pdf", "filetype": "application/pdf"}
    assert parse_metadata("child_id") == {"child_id": ""}
    assert parse_metadata(None) == parse_metadata("  ") == {}


def test_metadata_round_trips_through_its_header() -> None:
    values = {"filename": "a, b.pdf", "document-date-day": "3", "child_id": ""}
    assert parse_metadata(encode_metadata(values)) == values


@pytest.mark.parametrize(
    "header",
    [
        "filename not*base64",
        f"filename {_b64('a')},filename {_b64('b')}",
        "filename a b",
        f"file name {_b64('a')}",
        "filename " + base64.b64encode(b"\xff\xfe").decode(),
        "filename " + "A" * MAX_METADATA_BYTES,
    ],
)
def test_malformed_metadata_is_refused(header: str) -> None:
    with pytest.raises(MetadataInvalid):
        parse_metadata(header)


def test_lengths_are_plain_non_negative_integers() -> None:
    assert parse_length("0") == 0
    assert parse_length("209715200") == 209_715_200
    for bad in (None, "", "-1", "+5", "1e6", " 5", "٣", "9" * 19):
        assert parse_length(bad) is None
