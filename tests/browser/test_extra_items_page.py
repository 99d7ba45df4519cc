"""The lead asks the health service for a further document on a page that quotes what the
inspection's guidance says of asking for more; it is listed with its deadline, and the
health service sees it on its own checklist."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import Browsing, LivePortal
from tests.scenario.harness import THEME

TITLE = "Minutes of the last 3 exploitation panels"


def test_the_lead_asks_an_agency_for_more_and_the_agency_sees_it_on_its_checklist(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("lead_inspector"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/extra-items")
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Ask an agency for more")
    theme = live_portal.portal.container.themes[THEME]
    for rule in theme.additional_requests:
        expect(tab.page.locator("#guidance-on-asking-for-more")).to_contain_text(
            f"“{rule.quote}” ({rule.source})"
        )
    assert theme.additional_requests
    tab.check("extra-items-form")

    tab.page.get_by_role("button", name="Ask the agency").click()
    expect(tab.page.locator(".govuk-error-summary")).to_contain_text(
        "Enter what you are asking for"
    )
    tab.check("extra-items-errors")

    tab.page.locator("#agency").select_option("health")
    tab.page.locator("#title").fill(TITLE)
    tab.page.locator("#due-day").fill("3")
    tab.page.locator("#due-month").fill("12")
    tab.page.locator("#due-year").fill("2026")
    tab.page.get_by_role("button", name="Ask the agency").click()
    expect(tab.page.locator("#extra-items")).to_contain_text(TITLE)
    expect(tab.page.locator("#extra-items")).to_contain_text("3 December 2026")
    tab.check("extra-items-listed")

    tab.sign_in(live_portal.token("health"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/checklist")
    expect(tab.page.locator("main")).to_contain_text(TITLE)
