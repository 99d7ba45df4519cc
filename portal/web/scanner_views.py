"""What the admin's Scanner page and the documents' pages say of clamd's signatures,
worked out from the use cases' values. No I/O and no HTML here."""

from __future__ import annotations

from dataclasses import dataclass

from portal.domain.signatures import SignatureKind, age_words, is_local_test_version
from portal.services.documents import DocumentScan
from portal.services.signatures import ScannerStatus
from portal.web import views

_KIND_WORDS = {
    SignatureKind.official: "A ClamAV signature database",
    SignatureKind.local: "Local signature files only",
    SignatureKind.test: "The portal's local test signatures only",
}


NOT_ANSWERING = views.Tag("Not answering", "red")


@dataclass(frozen=True)
class ScannerView:
    """The Scanner page: clamd's engine and signatures, their age and any warning."""

    answers: bool
    error: str = ""
    tag: views.Tag = NOT_ANSWERING
    warning: str = ""
    rows: tuple[tuple[str, str], ...] = ()


def scanner_view(status: ScannerStatus) -> ScannerView:
    """The page's summary rows and warning for the scanner as it is now."""
    state = status.state
    if not status.answers or state is None:
        return ScannerView(answers=False, error=status.error or "")
    signatures = state.signatures
    published = (
        views.when_words(signatures.database_date) if signatures.database_date else "Not known"
    )
    rows = (
        ("Engine", f"ClamAV {signatures.engine}"),
        ("Signatures", _KIND_WORDS[signatures.kind]),
        (
            "Database version",
            str(signatures.database_version)
            if signatures.database_version is not None
            else "None (no ClamAV database is loaded)",
        ),
        ("Published", published),
        ("Age", age_words(state.age) if state.age is not None else "Not known"),
        ("Degraded when older than", age_words(state.max_age)),
        ("Recorded on each document as", signatures.version),
    )
    tag = views.Tag("Degraded", "red") if state.degraded else views.Tag("Up to date", "green")
    return ScannerView(answers=True, tag=tag, warning=state.warning, rows=rows)


def scan_words(scan: DocumentScan | None) -> str:
    """Which signatures judged a document, in a sentence for staff: 'ClamAV 1.4.6,
    signatures 27505 published 8:23am on 6 December 2026; scanned 10:02am on 7 December
    2026'."""
    if scan is None:
        return "Not scanned yet"
    if is_local_test_version(scan.signatures):
        which = "the portal's local test signatures only"
    else:
        which = f"signatures {scan.signatures}"
        if scan.signatures_date is not None:
            which += f" published {views.when_words(scan.signatures_date)}"
    return f"ClamAV {scan.engine}, {which}; scanned {views.when_words(scan.scanned_at)}"
