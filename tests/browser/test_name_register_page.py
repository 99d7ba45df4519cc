"""The name register on a page: the lead inspector records a name, every inspector of the
inspection reads it, and once retention has reduced the names the register shows initials
only and takes no more. A name is never written to a log or an audit event."""

from __future__ import annotations

import logging
from datetime import datetime, time

import pytest
from playwright.sync_api import expect

from portal.domain.timeline import LONDON
from portal.services.retention import retention_schedule
from portal.services.retention_runs import run_retention
from tests.browser.conftest import Browsing, LivePortal

NAME = "Jayden Okafor"
NOTE = "Okafor family: sibling of C105"


def _nav(tab: Browsing, name: str) -> None:
    tab.page.get_by_role("navigation", name="Menu").get_by_role("link", name=name).click()
    tab.page.wait_for_load_state("load")


def _record(tab: Browsing, name: str, reference: str, note: str) -> None:
    tab.page.get_by_label("Name", exact=True).fill(name)
    tab.page.get_by_label("Child’s unique ID").fill(reference)
    tab.page.get_by_label("Note (optional)").fill(note)
    tab.page.get_by_role("button", name="Record the name").click()
    tab.page.wait_for_load_state("load")


def test_the_lead_records_a_name_that_every_inspector_reads_and_no_log_or_audit_holds(
    tab: Browsing,
    second_tab: Browsing,
    live_portal: LivePortal,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    lead, inspector = tab, second_tab
    lead.sign_in(live_portal.token("lead_inspector"))
    _nav(lead, "Names")
    expect(lead.page.get_by_role("heading", level=1)).to_have_text("Name register")
    expect(lead.page.locator("#names tbody")).to_contain_text("No names are recorded.")
    expect(lead.page.locator("#names-due")).to_contain_text(
        "Names will be reduced to initials from"
    )
    lead.check("names-empty")

    lead.page.get_by_role("button", name="Record the name").click()
    expect(lead.page.locator(".govuk-error-summary")).to_contain_text("Enter the name")
    expect(lead.page.locator("#name-error")).to_contain_text("Enter the name")
    lead.check("names-no-name")

    _record(lead, NAME, "C104", NOTE)
    expect(lead.page.locator(".govuk-notification-banner")).to_contain_text("recorded")
    assert NAME not in lead.page.url
    row = lead.page.locator("#names tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(NAME)
    expect(row).to_contain_text("C104")
    expect(row).to_contain_text(NOTE)
    lead.check("names-recorded")

    inspector.sign_in(live_portal.token("inspector"))
    _nav(inspector, "Names")
    expect(inspector.page.locator("#names tbody tr")).to_contain_text(NAME)
    expect(inspector.page.locator("#name-form")).to_have_count(0)
    expect(inspector.page.locator("main")).to_contain_text("The lead inspector records names.")
    inspector.check("names-inspector")

    # The register holds the name; no audit event, no other table and no log line does.
    container = live_portal.portal.container
    assert container.records.find_text([NAME, "Okafor"]) == {
        "name_register.name": 1,
        "name_register.note": 1,
    }
    assert "Okafor" not in caplog.text


def test_an_inspector_cannot_record_a_name_and_an_admin_cannot_read_the_register(
    tab: Browsing, second_tab: Browsing, live_portal: LivePortal
) -> None:
    names = f"/inspections/{live_portal.inspection_id}/names"
    tab.sign_in(live_portal.token("inspector"))
    tab.goto("/sign-out")
    csrf = tab.page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    refused = tab.page.request.post(
        tab.base_url + names, form={"csrf_token": csrf, "name": NAME}, max_redirects=0
    )
    assert refused.status == 403
    assert live_portal.portal.container.records.names(live_portal.inspection_id) == []

    second_tab.sign_in(live_portal.token("admin"))
    response = second_tab.goto(names)
    assert response is not None and response.status == 403
    expect(
        second_tab.page.get_by_role("navigation", name="Menu").get_by_role("link", name="Names")
    ).to_have_count(0)


def test_once_names_are_reduced_the_register_shows_initials_and_its_form_is_gone(
    tab: Browsing, live_portal: LivePortal
) -> None:
    container, inspection = live_portal.portal.container, live_portal.inspection_id
    tab.sign_in(live_portal.token("lead_inspector"))
    tab.goto(f"/inspections/{inspection}/names")
    _record(tab, NAME, "C104", NOTE)
    csrf = tab.page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    due = retention_schedule(container, inspection).names_due
    assert due is not None

    run_retention(container, dry_run=False, as_of=datetime.combine(due, time(18), LONDON))

    tab.goto(f"/inspections/{inspection}/names")
    row = tab.page.locator("#names tbody tr")
    expect(row).to_contain_text("J.O.")
    expect(row).to_contain_text("O. family: sibling of C105")
    expect(row).not_to_contain_text("Okafor")
    expect(tab.page.locator("#reduced")).to_contain_text("Names were reduced to initials")
    expect(tab.page.locator("#reduced")).to_contain_text("The register takes no more names")
    expect(tab.page.locator("#name-form")).to_have_count(0)
    tab.check("names-reduced")

    # A form sent from a page loaded before the run is refused, and says why.
    late = tab.page.request.post(
        tab.base_url + f"/inspections/{inspection}/names",
        form={"csrf_token": csrf, "name": "Late Name", "reference": "C9", "note": ""},
        max_redirects=0,
    )
    assert late.status == 400
    assert "were reduced to initials" in late.text()
    assert [e.name for e in container.records.names(inspection)] == ["J.O."]
