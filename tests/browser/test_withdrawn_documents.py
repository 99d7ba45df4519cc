"""A document withdrawn after a rescan found it infected, as people see it on the pages:
the inspectors' documents page lists it as withdrawn with no link and says why, reading
it is refused, and the agency sees the item withdrawn on its checklist with what to do,
and on the document's own page a way to upload a clean copy. Real browser, real app."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.domain.reasons import ReasonCode, reason_sentence
from portal.services.withdrawal import withdraw_infected
from tests import samples
from tests.browser.conftest import Browsing, LivePortal
from tests.factories import add_document

ITEM = "1.1 Local authority organisational structures"


def test_inspectors_and_the_agency_see_a_withdrawn_document_plainly(
    tab: Browsing, live_portal: LivePortal
) -> None:
    container = live_portal.portal.container
    content = samples.pdf_text_pages(1)
    document = add_document(
        container,
        live_portal.inspection_id,
        original_filename="structures.pdf",
        file_type="pdf",
        mime_type="application/pdf",
        size_bytes=len(content),
        content=content,
    )
    kept = add_document(container, live_portal.inspection_id, item="1.2", content=content)
    withdraw_infected(container, document.id, "Pdf.Exploit.Rescan-1", "ClamAV 1.0.7/27433")

    tab.sign_in(live_portal.token("inspector"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/documents")
    row = tab.page.locator(f"tr[data-document='{document.id}']")
    expect(row.locator("[data-status] .govuk-tag")).to_have_text("Withdrawn")
    expect(row.get_by_role("link")).to_have_count(0)
    expect(row.locator("[data-not-here]")).to_contain_text("This document was withdrawn on")
    expect(row.locator("[data-not-here]")).to_contain_text("newer virus definitions")
    other = tab.page.locator(f"tr[data-document='{kept.id}']")
    expect(other.locator("[data-status]")).to_contain_text("Accepted")
    expect(other.get_by_role("link")).to_have_count(1)
    tab.check("inspector-documents-withdrawn")

    response = tab.goto(f"/documents/{document.id}/content")
    assert response is not None and response.status == 410
    expect(tab.page.get_by_role("heading", level=1)).to_have_text(
        "This document has been withdrawn"
    )
    expect(tab.page.locator("main")).to_contain_text("clean copy")
    tab.check("inspector-content-withdrawn")

    tab.sign_in(live_portal.token("local_authority"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/checklist")
    item = tab.page.locator(".govuk-task-list__item", has_text=ITEM)
    expect(item.locator(".govuk-tag")).to_have_text("Withdrawn")
    expect(item.locator(".govuk-task-list__hint")).to_have_text(
        reason_sentence(ReasonCode.infected_on_rescan)
    )
    tab.check("checklist-withdrawn")

    tab.goto(f"/documents/{document.id}")
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Your file was withdrawn")
    expect(tab.page.locator("#document-status")).to_have_text("Withdrawn")
    expect(tab.page.locator("[data-reason]")).to_have_text(
        reason_sentence(ReasonCode.infected_on_rescan)
    )
    upload = tab.page.get_by_role("button", name="Upload a clean copy")
    expect(upload).to_have_attribute(
        "href", f"/inspections/{live_portal.inspection_id}/items/1.1/upload"
    )
    tab.check("agency-document-withdrawn")
