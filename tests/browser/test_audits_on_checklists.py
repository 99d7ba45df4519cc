"""Audits and the other requests are on the agencies' own checklists and upload pages:
the local authority shares the multi-agency audit of each audited child for the
partnership, each health service sends its own single-agency audit (001 para 119) and
answers about each shortlisted child (001 para 115). Real browser, real app, real clamd."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests import samples
from tests.browser.conftest import Browsing, LivePortal
from tests.factories import TEST_NOW

AUDITED = ["DA-001", "DA-002", "DA-003", "DA-004", "DA-005", "DA-006"]


def _children_chosen(live_portal: LivePortal) -> None:
    """The lead's shortlist and audit choice, set directly: the pages that choose them are
    tested elsewhere."""
    repository = live_portal.portal.container.repository
    for stage in ("shortlist", "audit"):
        repository.replace_selection(
            live_portal.inspection_id, stage, AUDITED, "lead_inspector:test", TEST_NOW
        )


def test_the_local_authority_uploads_a_multi_agency_audit_from_its_checklist(
    tab: Browsing, live_portal: LivePortal
) -> None:
    _children_chosen(live_portal)
    tab.sign_in(live_portal.token("local_authority"))
    link = tab.page.get_by_role("link", name="Multi-agency audit of child DA-001")
    expect(link).to_be_visible()
    tab.check("checklist-with-audits")

    link.click()
    expect(tab.page.get_by_role("heading", level=1)).to_contain_text(
        "Multi-agency audit of child DA-001"
    )
    tab.check("audit-upload-page")
    tab.page.locator("input[type=file]").set_input_files(
        {
            "name": "audit.pdf",
            "mimeType": "application/octet-stream",
            "buffer": samples.pdf_text_pages(2),
        }
    )
    tab.page.get_by_role("button", name="Upload file").click()
    expect(tab.page).to_have_url(re.compile(r"/documents/[0-9a-f]{32}$"))
    assert tab.wait_for_final_status() == "Accepted"

    tab.page.get_by_role("link", name="Return to your checklist").click()
    item = tab.page.locator(".govuk-task-list__item", has_text="Multi-agency audit of child DA-001")
    expect(item.locator(".govuk-tag")).to_have_text("Accepted")


def test_a_health_service_sees_its_single_agency_audits_and_no_multi_agency_one(
    tab: Browsing, live_portal: LivePortal
) -> None:
    _children_chosen(live_portal)
    tab.sign_in(live_portal.token("health"))

    for child in AUDITED:
        expect(
            tab.page.get_by_role("link", name=f"Single-agency audit of child {child}")
        ).to_be_visible()
    expect(tab.page.get_by_text("Multi-agency audit of child")).to_have_count(0)
    tab.check("health-checklist-with-audits")


def test_a_health_service_answers_about_a_shortlisted_child_from_its_checklist(
    tab: Browsing, live_portal: LivePortal
) -> None:
    _children_chosen(live_portal)
    tab.sign_in(live_portal.token("health"))
    name = "Information about a shortlisted child and any relevant adults: child DA-002"
    tab.page.get_by_role("link", name=name).click()
    expect(tab.page.get_by_role("heading", level=1)).to_contain_text(name)
    tab.check("shortlist-answers-upload-page")
    tab.page.locator("input[type=file]").set_input_files(
        {
            "name": "answers.pdf",
            "mimeType": "application/octet-stream",
            "buffer": samples.pdf_text_pages(1),
        }
    )
    tab.page.get_by_role("button", name="Upload file").click()
    expect(tab.page).to_have_url(re.compile(r"/documents/[0-9a-f]{32}$"))
    assert tab.wait_for_final_status() == "Accepted"

    tab.page.get_by_role("link", name="Return to your checklist").click()
    item = tab.page.locator(".govuk-task-list__item", has_text=name)
    expect(item.locator(".govuk-tag")).to_have_text("Accepted")
