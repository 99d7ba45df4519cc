"""The lead sets the inspection's days through the pages: what they enter is kept, the
other day is worked out, and the timeline shows which deadlines Easter moved and why."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import Browsing, LivePortal


def _fill_date(tab: Browsing, field: str, day: str, month: str, year: str) -> None:
    tab.page.locator(f"#{field}-day").fill(day)
    tab.page.locator(f"#{field}-month").fill(month)
    tab.page.locator(f"#{field}-year").fill(year)


def test_the_lead_enters_a_notification_day_and_the_timeline_follows_around_easter(
    tab: Browsing, live_portal: LivePortal
) -> None:
    lead = tab
    lead.sign_in(live_portal.token("lead_inspector"))
    lead.goto(f"/inspections/{live_portal.inspection_id}/timeline")
    lead.page.get_by_role("link", name="Change the notification day").click()
    expect(lead.page.get_by_role("heading", level=1)).to_have_text("The inspection’s days")
    expect(lead.page.locator("#fieldwork-day")).to_have_value("7")
    expect(lead.page.locator("#notification-day")).to_have_value("")
    lead.check("days-form")

    _fill_date(lead, "notification", "22", "3", "2027")
    _fill_date(lead, "fieldwork", "", "", "")
    lead.page.get_by_role("button", name="Save the days").click()

    expect(lead.page).to_have_url(re.compile(r"/timeline\?days=saved$"))
    expect(lead.page.locator(".govuk-notification-banner--success")).to_contain_text(
        "days are saved"
    )
    expect(lead.page.locator("dd#notification-day")).to_have_text("Monday 22 March 2027")
    expect(lead.page.locator("dd#fieldwork-day")).to_have_text(
        "Monday 5 April 2027 (worked out from the notification day)"
    )
    expect(lead.page.locator("[data-warning=notification_off_rule]")).to_contain_text(
        "8 working days before fieldwork starts on Monday 5 April 2027"
    )
    chosen = lead.page.locator("#deadline-week1_friday_11am")
    expect(chosen.locator(".govuk-summary-card__title")).to_contain_text("11am Tuesday 30 March")
    expect(chosen.locator("[data-shifted] dd")).to_have_text(
        "The guidance’s day is Friday 26 March 2027; Friday 26 March 2027 and Monday 29 March "
        "2027 are bank holidays, so it falls on the next working day."
    )
    records = lead.page.locator("#deadline-week2_tuesday_5pm")
    expect(records.locator(".govuk-summary-card__title")).to_contain_text("5pm Wednesday 31 March")
    expect(records.locator("[data-shifted] dd")).to_contain_text(
        "It depends on “By 11am on Friday in week one”, now 11am on Tuesday 30 March 2027"
    )
    lead.check("timeline-around-easter")


def test_a_day_that_is_not_a_working_day_is_shown_on_the_form_with_what_to_do(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("lead_inspector"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/days")
    _fill_date(tab, "fieldwork", "3", "4", "2027")
    tab.page.get_by_role("button", name="Save the days").click()

    summary = tab.page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Saturday 3 April 2027, is not a working day")
    expect(tab.page.locator("#fieldwork-error")).to_contain_text("Choose a working day")
    assert tab.page.title().startswith("Error: ")
    tab.check("days-form-error")


def test_an_inspector_who_is_not_the_lead_cannot_change_the_days(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("inspector"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/timeline")
    expect(tab.page.get_by_role("link", name="Change the notification day")).to_have_count(0)
    response = tab.page.request.get(f"{tab.base_url}/inspections/{live_portal.inspection_id}/days")
    assert response.status == 403
