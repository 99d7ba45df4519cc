"""An inspector reads the inspection's accepted documents, by agency and item; a health
record shows where and when it can be viewed, and opens only on site during fieldwork.
Real browser, real app."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.timeline import LONDON
from tests import samples
from tests.browser.conftest import Browsing, LivePortal
from tests.factories import add_document, settable_clock


def _document(live_portal: LivePortal, **fields: Any) -> Document:
    content = samples.pdf_text_pages(1)
    values: dict[str, Any] = {
        "file_type": "pdf",
        "mime_type": "application/pdf",
        "size_bytes": len(content),
        "content": content,
        **fields,
    }
    return add_document(live_portal.portal.container, live_portal.inspection_id, **values)


def _on_site(live_portal: LivePortal, network: str) -> None:
    """Register `network` as on site around now, on the Tuesday of fieldwork (Monday 7 to
    Friday 11 December 2026): health records open only during fieldwork."""
    now = datetime(2026, 12, 8, 10, tzinfo=LONDON)
    settable_clock(live_portal.portal.container).set(now)
    live_portal.portal.container.repository.set_onsite(
        live_portal.inspection_id,
        [network],
        now - timedelta(hours=1),
        now + timedelta(hours=2),
        "test",
        now,
    )


def _health_record(live_portal: LivePortal) -> Document:
    return _document(
        live_portal,
        agency="health",
        item="case_record",
        child_id="C001",
        area=Area.onsite,
        original_filename="health-record.pdf",
    )


def test_an_inspector_sees_accepted_documents_by_agency_and_opens_one(
    tab: Browsing, live_portal: LivePortal
) -> None:
    structures = _document(live_portal, original_filename="structures.pdf")
    _document(live_portal, agency="police", original_filename="police-structures.pdf")
    _document(
        live_portal,
        original_filename="virus.pdf",
        status=DocumentStatus.rejected,
        area=Area.quarantine,
    )
    tab.sign_in(live_portal.token("inspector"))
    tab.page.get_by_role("link", name="Documents").click()
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Documents")
    local = tab.page.locator("table[data-agency=local_authority]")
    expect(local.locator("caption")).to_have_text("The local authority")
    expect(local.locator(f"tr[data-document='{structures.id}']")).to_contain_text(
        "1.1 Local authority organisational structures"
    )
    expect(tab.page.locator("table[data-agency=police]")).to_contain_text("police-structures.pdf")
    expect(tab.page.get_by_text("virus.pdf")).to_have_count(0)
    tab.check("documents")

    tab.page.locator("#agency").select_option("police")
    tab.page.get_by_role("button", name="Show documents").click()
    expect(tab.page.locator("table[data-agency]")).to_have_count(1)
    expect(tab.page.locator("table[data-agency=police]")).to_be_visible()
    tab.check("documents-of-one-agency")

    tab.page.locator("#agency").select_option("")
    tab.page.get_by_role("button", name="Show documents").click()
    with tab.page.expect_download() as download:
        tab.page.get_by_role("link", name=re.compile(r"^structures\.pdf")).click()
    assert download.value.suggested_filename == "structures.pdf"
    with open(download.value.path(), "rb") as saved:
        assert saved.read(5) == b"%PDF-"


def test_a_health_record_off_site_says_where_and_when_it_can_be_viewed_instead_of_a_link(
    tab: Browsing, live_portal: LivePortal
) -> None:
    record = _health_record(live_portal)
    live_portal.portal.container.repository.set_onsite(  # the browser is at 127.0.0.1
        live_portal.inspection_id,
        ["10.20.30.0/24"],
        datetime(2026, 12, 7, 9, tzinfo=LONDON),
        datetime(2026, 12, 11, 17, tzinfo=LONDON),
        "test",
        live_portal.portal.container.clock.now(),
    )
    tab.sign_in(live_portal.token("inspector"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/documents")
    row = tab.page.locator(f"tr[data-document='{record.id}']")
    expect(row).to_contain_text("Health record")
    expect(row.locator("[data-not-here]")).to_have_text(
        "Only on site, from the inspection venue's network in Testshire, "
        "9am Monday 7 December to 5pm Friday 11 December 2026."
    )
    expect(row.get_by_role("link")).to_have_count(0)
    tab.check("health-record-off-site")

    response = tab.goto(f"/documents/{record.id}/content")
    assert response is not None and response.status == 403
    expect(tab.page.get_by_role("heading", level=1)).to_have_text(
        "You can only view this health record on site"
    )
    tab.check("health-record-refused")


def test_a_health_record_on_site_during_fieldwork_opens_watermarked(
    tab: Browsing, live_portal: LivePortal
) -> None:
    record = _health_record(live_portal)
    _on_site(live_portal, "127.0.0.0/8")
    tab.sign_in(live_portal.token("inspector"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/documents")
    link = tab.page.locator(f"tr[data-document='{record.id}']").get_by_role("link")
    expect(link).to_have_attribute("href", f"/documents/{record.id}/content")
    tab.check("health-record-on-site")

    response = tab.page.request.get(live_portal.url + f"/documents/{record.id}/content")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    assert response.body().startswith(b"%PDF-")


def test_an_agency_uploader_cannot_read_documents_through_the_pages(
    tab: Browsing, live_portal: LivePortal
) -> None:
    own = _document(live_portal)
    police = _document(live_portal, agency="police")
    tab.sign_in(live_portal.token("local_authority"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/documents")
    expect(tab.page).to_have_url(re.compile(r"/checklist$"))

    response = tab.goto(f"/documents/{own.id}/content")
    assert response is not None and response.status == 403
    tab.check("own-content-forbidden")
    response = tab.goto(f"/documents/{police.id}/content")
    assert response is not None and response.status == 404
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Page not found")
