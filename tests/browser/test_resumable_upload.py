"""A large upload from the upload page goes in resumable pieces with a progress bar: the
connection drops part way, comes back, and the upload carries on from where it stopped
(tus, through portal/web/static/upload.js). Real browser, real app, real clamd."""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from portal.adapters.resumable_files import PartialUploads
from portal.domain.resumable import PartialUpload
from tests import samples
from tests.browser.conftest import Browsing, LivePortal

FILE_BYTES = 200 * 1024 * 1024
_PAD_LINE = b"% " + b"case file padding " * 5 + b"\n"


def write_padded_pdf(path: Path, size: int) -> None:
    """A valid one-page PDF of exactly `size` bytes, written in a second or two: its page's
    content stream shows a line of text, then comments (ignored by every reader) pad it."""
    text = b"BT /F1 12 Tf 72 720 Td (A large case file, uploaded in pieces) Tj ET\n"
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        None,  # the content stream
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    # Numbers are written 10 digits wide, so all but the stream's bytes has a fixed size.
    stream_length = size - _layout(head, objects, 0)
    with path.open("wb") as out:
        offsets = []
        written = out.write(head)
        for number, obj in enumerate(objects, 1):
            offsets.append(written)
            if obj is None:
                written += out.write(
                    b"%d 0 obj\n<< /Length %010d >>\nstream\n" % (number, stream_length)
                )
                written += out.write(text)
                padding = stream_length - len(text)
                block = _PAD_LINE * (1024 * 1024 // len(_PAD_LINE))
                while padding > len(block):
                    written += out.write(block)
                    padding -= len(block)
                last = b"%" + b" " * (padding - 2) + b"\n" if padding >= 2 else b"\n" * padding
                written += out.write(last)
                written += out.write(b"\nendstream\nendobj\n")
            else:
                written += out.write(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
        out.write(_xref_and_trailer(offsets, written))
    assert path.stat().st_size == size, path.stat().st_size


def _xref_and_trailer(offsets: list[int], xref: int) -> bytes:
    table = b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    table += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return table + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%010d\n%%%%EOF\n" % (
        len(offsets) + 1,
        xref,
    )


def _layout(head: bytes, objects: list[bytes | None], stream_length: int) -> int:
    """The file's size with a content stream of `stream_length` bytes."""
    size = len(head)
    for number, obj in enumerate(objects, 1):
        if obj is None:
            size += len(b"%d 0 obj\n<< /Length %010d >>\nstream\n" % (number, stream_length))
            size += stream_length + len(b"\nendstream\nendobj\n")
        else:
            size += len(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
    return size + len(_xref_and_trailer([0] * len(objects), 0))


def _progress(page: Page) -> int:
    value: int = page.evaluate("Math.round(document.getElementById('upload-progress-bar').value)")
    return value


def _uploads(live_portal: LivePortal) -> list[PartialUpload]:
    folder = live_portal.portal.container.settings.resumable_dir
    uploads = PartialUploads(folder)
    return [u for u in (uploads.get(p.stem) for p in folder.glob("*.json")) if u is not None]


def test_resumes_an_interrupted_large_upload(
    tab: Browsing, live_portal: LivePortal, tmp_path: Path
) -> None:
    big = tmp_path / "case-file.pdf"
    write_padded_pdf(big, FILE_BYTES)
    tab.sign_in(live_portal.token("local_authority"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/items/1.1/upload")
    tab.check("upload-page")

    # However fast this machine, the upload cannot finish before the connection drops: no
    # piece after the tenth (80 of 200 MiB) gets through until the test lets it.
    passed: list[str] = []

    def ten_then_fail(route: Route) -> None:
        if route.request.method == "PATCH":
            if len(passed) >= 10:
                route.abort("internetdisconnected")
                return
            passed.append(route.request.url)
        route.continue_()

    tab.page.route("**/resumable/*", ten_then_fail)
    tab.page.locator("input[type=file]").set_input_files(str(big))
    tab.page.get_by_role("button", name="Upload file").click()
    bar = tab.page.locator("#upload-progress-bar")
    expect(bar).to_be_visible()
    seen = [0]
    deadline = time.monotonic() + 30
    while seen[-1] < 30:
        assert time.monotonic() < deadline, f"the progress bar stopped at {seen}"
        value = _progress(tab.page)
        if value != seen[-1]:
            seen.append(value)
        time.sleep(0.02)

    # The connection drops part way: what was sent is kept on the server.
    context = tab.page.context
    context.set_offline(True)
    expect(tab.page.locator("#upload-progress-text")).to_contain_text(
        re.compile("connection has been lost|interrupted")
    )
    # Failures the page was made to have (the browser offline); nothing else went wrong.
    tab.console_errors[:] = [e for e in tab.console_errors if "ERR_INTERNET_DISCONNECTED" not in e]
    tab.check("uploading")
    expect(tab.page.locator("#upload-announcer")).to_contain_text(
        re.compile("connection has been lost|interrupted")
    )
    stopped_at = _progress(tab.page)
    time.sleep(1.0)
    assert _progress(tab.page) == stopped_at
    (interrupted,) = _uploads(live_portal)
    assert 0 < interrupted.received_bytes < FILE_BYTES
    # Failures the page was made to have (the browser offline); nothing else went wrong.
    tab.console_errors[:] = [e for e in tab.console_errors if "ERR_INTERNET_DISCONNECTED" not in e]
    tab.page.unroute_all()
    context.set_offline(False)

    deadline = time.monotonic() + 30
    while not re.search(r"/documents/[0-9a-f]{32}$", tab.page.url):
        assert time.monotonic() < deadline, f"the upload did not finish: {seen}"
        try:
            value = _progress(tab.page)
        except Exception:  # the page is on its way to the document's status
            break
        if value != seen[-1]:
            seen.append(value)
        time.sleep(0.05)
    expect(tab.page).to_have_url(re.compile(r"/documents/[0-9a-f]{32}$"), timeout=30_000)
    assert seen == sorted(seen) and len(seen) >= 5, seen
    assert seen[-1] > stopped_at

    # Resumed, not restarted: the server received the file's bytes about once, all in the
    # one upload the page created.
    uploads = _uploads(live_portal)
    received = sum(u.received_bytes for u in uploads)
    assert FILE_BYTES <= received < 1.2 * FILE_BYTES, received
    (upload,) = uploads
    assert upload.document_id == tab.page.url.rsplit("/", 1)[1]
    document = live_portal.portal.container.repository.get_document(upload.document_id)
    assert document is not None and document.size_bytes == FILE_BYTES

    tab.check("status-checking")
    assert tab.wait_for_final_status() == "Accepted"
    tab.check("status-accepted")


def test_an_upload_cut_short_by_a_reload_carries_on_when_the_same_file_is_chosen_again(
    tab: Browsing, live_portal: LivePortal, tmp_path: Path
) -> None:
    size = 40 * 1024 * 1024
    big = tmp_path / "case-file.pdf"
    write_padded_pdf(big, size)
    tab.sign_in(live_portal.token("local_authority"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/items/1.1/upload")

    # Two pieces get through, then the network fails every request of the upload.
    passed: list[str] = []

    def two_then_fail(route: Route) -> None:
        if route.request.method == "PATCH" and len(passed) < 2:
            passed.append(route.request.url)
            route.continue_()
        else:
            route.abort()

    tab.page.route("**/resumable/*", two_then_fail)
    tab.page.locator("input[type=file]").set_input_files(str(big))
    tab.page.get_by_role("button", name="Upload file").click()
    expect(tab.page.locator("#upload-progress-text")).to_contain_text("interrupted")
    (stalled,) = _uploads(live_portal)
    assert stalled.received_bytes == 16 * 1024 * 1024

    tab.page.unroute_all()
    tab.page.reload()
    notice = tab.page.locator("#upload-resume-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("The upload of case-file.pdf stopped before it finished")
    tab.check("unfinished-upload-notice")

    tab.page.locator("input[type=file]").set_input_files(str(big))
    tab.page.get_by_role("button", name="Upload file").click()
    expect(tab.page).to_have_url(re.compile(r"/documents/[0-9a-f]{32}$"))
    (upload,) = _uploads(live_portal)
    assert upload.received_bytes == size  # carried on at 16 MiB: nothing sent twice
    assert upload.document_id == tab.page.url.rsplit("/", 1)[1]
    # Finished, so the browser no longer keeps its address.
    assert (
        tab.page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('tus::')).length")
        == 0
    )


def test_a_small_upload_with_javascript_shows_errors_from_the_server_in_the_summary(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("local_authority"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/items/1.4/upload")
    tab.page.locator("input[type=file]").set_input_files(
        {"name": "plan.pdf", "mimeType": "application/pdf", "buffer": samples.pdf_text_pages(1)}
    )
    tab.page.get_by_role("button", name="Upload file").click()
    summary = tab.page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Enter the date of the document")).to_have_attribute(
        "href", "#document-date-day"
    )
    expect(tab.page.locator("#document-date-error")).to_contain_text(
        "Enter the date of the document"
    )
    assert tab.page.title().startswith("Error: ")
    assert _uploads(live_portal) == []  # refused before a byte was stored
    tab.check("resumable-no-date")

    for part, value in (("day", "3"), ("month", "2"), ("year", "2026")):
        tab.page.locator(f"#document-date-{part}").fill(value)
    tab.page.get_by_role("button", name="Upload file").click()
    expect(tab.page).to_have_url(re.compile(r"/documents/[0-9a-f]{32}$"))
    assert tab.wait_for_final_status() == "Accepted"
    tab.check("resumable-accepted")


def test_without_javascript_the_form_posts_the_file_in_one_go(
    tab: Browsing, live_portal: LivePortal
) -> None:
    context = tab.page.context.browser.new_context(java_script_enabled=False)  # type: ignore[union-attr]
    try:
        page = context.new_page()
        page.goto(live_portal.url + "/sign-in")
        page.locator("#token").fill(live_portal.token("local_authority"))
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live_portal.url}/inspections/{live_portal.inspection_id}/items/1.1/upload")
        page.locator("input[type=file]").set_input_files(
            {
                "name": "minutes.pdf",
                "mimeType": "application/pdf",
                "buffer": samples.pdf_text_pages(1),
            }
        )
        page.get_by_role("button", name="Upload file").click()
        expect(page).to_have_url(re.compile(r"/documents/[0-9a-f]{32}$"))
        assert _uploads(live_portal) == []  # the form's path, not the resumable one
    finally:
        context.close()
