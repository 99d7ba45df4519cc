"""An agency signs in with its token, uploads against its checklist and sees each file's
verdict; the lead inspector's matrix follows. Real browser, real app, real clamd."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.domain.documents import Area
from portal.domain.reasons import ReasonCode, reason_sentence
from tests import samples
from tests.browser.conftest import Browsing, LivePortal

ITEM = "1.1 Local authority organisational structures"


def _upload_from_checklist(tab: Browsing, item: str, name: str, data: bytes) -> None:
    tab.page.get_by_role("link", name=item).click()
    tab.page.wait_for_load_state("load")
    tab.check("upload-page")
    tab.page.locator("input[type=file]").set_input_files(
        {"name": name, "mimeType": "application/octet-stream", "buffer": data}
    )
    tab.page.get_by_role("button", name="Upload file").click()
    tab.page.wait_for_load_state("load")


def test_an_agency_signs_in_uploads_a_pdf_and_sees_it_accepted(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.goto("/")
    expect(tab.page).to_have_url(re.compile(r"/sign-in$"))
    tab.check("sign-in")
    tab.sign_in(live_portal.token("local_authority"))
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Your checklist")
    due = tab.page.get_by_role("heading", name=re.compile(r"^Due by 5pm Tuesday \d+ \w+"))
    expect(due.first).to_be_visible()
    tab.check("checklist")

    _upload_from_checklist(tab, ITEM, "organisation.pdf", samples.pdf_text_pages(1))
    expect(tab.page).to_have_url(re.compile(r"/documents/[0-9a-f]{32}$"))
    tab.check("status-checking")
    assert tab.wait_for_final_status() == "Accepted"
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Your file was accepted")
    tab.check("status-accepted")

    tab.page.get_by_role("link", name="Return to your checklist").click()
    item = tab.page.locator(".govuk-task-list__item", has_text=ITEM)
    expect(item.locator(".govuk-tag")).to_have_text("Accepted")
    tab.check("checklist-after-upload")


def test_a_file_marked_as_holding_health_information_is_kept_on_site(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("local_authority"))
    tab.page.get_by_role("link", name=ITEM).click()
    tab.page.wait_for_load_state("load")
    tab.page.get_by_label("This file holds health information").check()
    tab.check("upload-page-health-information")
    pdf = samples.pdf_text_pages(1)
    tab.page.locator("input[type=file]").set_input_files(
        {"name": "structures.pdf", "mimeType": "application/pdf", "buffer": pdf}
    )
    tab.page.get_by_role("button", name="Upload file").click()
    tab.page.wait_for_load_state("load")
    assert tab.wait_for_final_status() == "Accepted"
    document_id = tab.page.url.rsplit("/", 1)[1]
    container = live_portal.portal.container
    document = container.repository.get_document(document_id)
    assert document is not None and document.health_information
    assert document.area is Area.onsite
    assert container.store.exists(Area.onsite, document.object_key)
    assert not container.store.exists(Area.clean, document.object_key)


def test_an_agency_uploading_eicar_sees_a_rejection_saying_what_to_do(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("local_authority"))
    _upload_from_checklist(tab, ITEM, "minutes.txt", samples.eicar())
    assert tab.wait_for_final_status() == "Rejected"
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Your file was not accepted")
    expect(tab.page.locator("[data-reason]")).to_have_text(reason_sentence(ReasonCode.infected))
    tab.check("status-rejected")

    tab.page.get_by_role("link", name="Return to your checklist").click()
    item = tab.page.locator(".govuk-task-list__item", has_text=ITEM)
    expect(item.locator(".govuk-tag")).to_have_text("Rejected")
    expect(item.locator(".govuk-task-list__hint")).to_contain_text("virus scanner")
    tab.check("checklist-rejected")


def test_upload_errors_say_how_to_fix_them_in_an_error_summary(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("local_authority"))
    tab.page.get_by_role("link", name=ITEM).click()
    tab.page.get_by_role("button", name="Upload file").click()
    summary = tab.page.locator(".govuk-error-summary")
    expect(summary.get_by_role("link", name="Select a file to upload")).to_have_attribute(
        "href", "#file"
    )
    expect(tab.page.locator("#file-error")).to_contain_text("Select a file to upload")
    assert tab.page.title().startswith("Error: ")
    tab.check("upload-no-file")

    # An item with a look-back asks for the document's date, and says how to give it.
    tab.goto(f"/inspections/{live_portal.inspection_id}/items/1.4/upload")
    tab.page.locator("input[type=file]").set_input_files(
        {"name": "plan.pdf", "mimeType": "application/pdf", "buffer": samples.pdf_text_pages(1)}
    )
    tab.page.get_by_role("button", name="Upload file").click()
    expect(summary).to_contain_text("Enter the date of the document")
    tab.check("upload-no-date")


def test_the_lead_inspector_sees_the_matrix_change_after_an_upload(
    tab: Browsing, second_tab: Browsing, live_portal: LivePortal
) -> None:
    lead = tab
    lead.sign_in(live_portal.token("lead_inspector"))
    lead.page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Completeness"
    ).click()
    expect(lead.page.get_by_role("heading", level=1)).to_have_text("Completeness")
    cell = lead.page.locator(
        "tr[data-agency=local_authority] td[data-deadline=week2_tuesday_5pm] a"
    )
    expect(cell).to_have_attribute("data-accepted", "0")
    lead.check("matrix-before")

    agency = second_tab
    agency.sign_in(live_portal.token("local_authority"))
    _upload_from_checklist(agency, ITEM, "organisation.pdf", samples.pdf_text_pages(1))
    assert agency.wait_for_final_status() == "Accepted"

    lead.page.get_by_role("link", name="Check again").click()
    expect(cell).to_have_attribute("data-accepted", "1")
    lead.check("matrix-after")
    cell.click()
    expect(lead.page.get_by_role("heading", level=1)).to_contain_text("The local authority")
    row = lead.page.locator("#items tr", has_text=ITEM)
    expect(row.locator(".govuk-tag")).to_have_text("Accepted")
    lead.check("matrix-drill-down")


def test_an_agency_cannot_reach_another_agencys_document_page(
    tab: Browsing, live_portal: LivePortal
) -> None:
    response = live_portal.portal.upload("organisation.pdf", samples.pdf_text_pages(1))
    assert response.status_code == 202, response.text
    document_id = response.json()["id"]

    tab.sign_in(live_portal.token("health"))
    answer = tab.goto(f"/documents/{document_id}")
    assert answer is not None and answer.status == 404
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Page not found")
    tab.check("other-agency-document")

    missing = tab.goto("/documents/" + "0" * 32)
    assert missing is not None and missing.status == 404
    assert tab.page.content().count("Page not found") >= 1


def test_an_agency_is_refused_the_lead_inspectors_pages_and_other_agencies_items(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("health"))
    inspection = live_portal.inspection_id
    other = tab.goto(f"/inspections/{inspection}/completeness/local_authority/week2_tuesday_5pm")
    assert other is not None and other.status == 403
    tab.check("other-agency-items")
    not_theirs = tab.goto(f"/inspections/{inspection}/items/1.1/upload")
    assert not_theirs is not None and not_theirs.status == 404
