"""neutralise_filename: the name an upload is kept and shown under is always harmless."""

from __future__ import annotations

import unicodedata

import pytest

from portal.domain.file_types import extension_of
from portal.domain.filenames import FALLBACK_FILENAME, MAX_FILENAME_LENGTH, neutralise_filename

HOSTILE = [
    "../../etc/passwd.pdf",
    "..\\..\\windows\\system32\\drivers\\etc\\hosts.pdf",
    "/etc/passwd",
    "C:\\Users\\Public\\report.pdf",
    "invoice\u202efdp.exe",
    "report\u200b\u200d.pdf",
    "line\r\nBcc: someone@example.invalid.pdf",
    "nul\x00byte.pdf",
    "tab\there.pdf",
    "bell\x07.pdf",
    "CON.pdf",
    "con",
    "LPT1.txt",
    "Com3 .docx",
    "a" * 300 + ".pdf",
    "é" * 400,
    "...",
    " . ",
    "",
    "\u2028\u2029",
    'what?"<>|*:.pdf',
    "\ud800broken.pdf",
    "trailing dot.pdf.",
]


def assert_harmless(name: str) -> None:
    assert name
    assert len(name) <= MAX_FILENAME_LENGTH
    assert "/" not in name and "\\" not in name
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in name)
    assert not any(ch in name for ch in '<>:"|?*\x00\u2028\u2029')
    assert name == name.strip(" .")
    assert name.split(".", 1)[0].strip().casefold() not in {"con", "nul", "prn", "aux", "lpt1"}
    assert unicodedata.is_normalized("NFC", name)


@pytest.mark.parametrize("raw", HOSTILE)
def test_every_hostile_name_comes_out_harmless_and_stays_so(raw: str) -> None:
    name = neutralise_filename(raw)

    assert_harmless(name)
    assert neutralise_filename(name) == name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Annex A 1.4 - strategy.pdf", "Annex A 1.4 - strategy.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\Public\\report.pdf", "report.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("line\r\nBcc: x.pdf", "line Bcc_ x.pdf"),
        ("nul\x00byte.pdf", "nulbyte.pdf"),
        ("CON.pdf", "_CON.pdf"),
        ("lpt1", "_lpt1"),
        ("...", FALLBACK_FILENAME),
        (None, FALLBACK_FILENAME),
        ("e\u0301cole.txt", "école.txt"),
    ],
)
def test_neutralises_names_as_expected(raw: str | None, expected: str) -> None:
    assert neutralise_filename(raw) == expected


def test_keeps_the_extension_when_shortening_a_long_name() -> None:
    name = neutralise_filename("a" * 300 + ".pdf")

    assert len(name) == MAX_FILENAME_LENGTH
    assert extension_of(name) == "pdf"


def test_shows_the_real_extension_of_a_right_to_left_override_name() -> None:
    assert extension_of(neutralise_filename("invoice\u202efdp.exe")) == "exe"


def test_refuses_a_limit_too_short_for_the_fallback_name() -> None:
    with pytest.raises(ValueError):
        neutralise_filename("a.pdf", max_length=3)
