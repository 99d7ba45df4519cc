"""Records to be seen on site, through the pages: the lead marks one child's case records
to be seen on site, the agency confirms where and when instead of uploading, and the lead
sees the arrangement and records the records seen."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import Browsing, LivePortal

SHORTLIST = [f"C-{n}" for n in range(101, 121)]
CHILD = SHORTLIST[0]


def _choose_children(live_portal: LivePortal) -> None:
    portal = live_portal.portal
    portal.accept_list(SHORTLIST)
    for stage, chosen in (("shortlist", SHORTLIST), ("audit", SHORTLIST[:6])):
        response = portal.client.post(
            f"/v1/inspections/{portal.inspection_id}/selections",
            headers=portal.auth("lead_inspector"),
            json={"stage": stage, "child_ids": chosen},
        )
        assert response.status_code == 200, response.text


def test_the_agency_confirms_where_and_when_and_the_lead_sees_it_arranged(
    tab: Browsing, second_tab: Browsing, live_portal: LivePortal
) -> None:
    _choose_children(live_portal)
    lead, agency = tab, second_tab
    children = f"/inspections/{live_portal.inspection_id}/children"
    lead.sign_in(live_portal.token("lead_inspector"))
    lead.goto(children)
    row = lead.page.locator(f'tr[data-child="{CHILD}"]').filter(has_text="local authority")
    row.get_by_role("button", name=re.compile("^See on site instead")).click()
    cell = lead.page.locator(f'tr[data-child="{CHILD}"] [data-seen-on-site=local_authority]')
    expect(cell).to_contain_text("To be seen on site: not yet arranged")
    lead.check("slot-marked")

    agency.sign_in(live_portal.token("local_authority"))
    agency.goto(f"/inspections/{live_portal.inspection_id}/checklist")
    item = agency.page.get_by_role("link", name=f"Case records of child {CHILD}")
    expect(item).to_have_attribute("href", re.compile(r"/arrangement$"))
    agency.check("checklist-to-be-seen-on-site")
    item.click()
    expect(agency.page.locator("#where-hint")).to_contain_text("Do not write a child’s name")
    agency.check("arrangement-form")
    agency.page.get_by_role("button", name="Confirm the arrangement").click()
    summary = agency.page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter where and how")
    expect(summary).to_contain_text("Select the day of fieldwork")
    agency.check("arrangement-form-errors")
    agency.page.locator("#where").fill("Room 4, Civic Centre")
    agency.page.get_by_label("Wednesday 9 December 2026").check()
    agency.page.get_by_role("button", name="Confirm the arrangement").click()
    expect(agency.page).to_have_url(re.compile(r"/checklist$"))
    status = agency.page.locator("li", has=item).locator(".govuk-task-list__status")
    expect(status).to_have_text("Arranged")
    agency.check("checklist-arranged")

    lead.goto(children)
    expect(cell).to_contain_text(
        "To be seen on site: arranged (Room 4, Civic Centre, Wednesday 9 December 2026)"
    )
    lead.check("slot-arranged")
    cell.get_by_role("button", name=re.compile("^Record as seen")).click()
    expect(cell).to_contain_text("; seen on ")
    expect(cell.get_by_role("button")).to_have_count(0)
    lead.check("slot-seen")
