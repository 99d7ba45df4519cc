"""The lead records the letter's days through the pages and the timeline shows the
deadlines after fieldwork: the factual-accuracy comments and the statement of action.

Hand-counted: the final letter sent Monday 8 February 2027; 70 working days are 14 weeks
of weekdays, to Monday 17 May; Good Friday (26 March), Easter Monday (29 March) and the
early May bank holiday (3 May) move it three working days on, to Thursday 20 May 2027.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import Browsing, LivePortal


def _fill_date(tab: Browsing, field: str, day: str, month: str, year: str) -> None:
    tab.page.locator(f"#{field}-day").fill(day)
    tab.page.locator(f"#{field}-month").fill(month)
    tab.page.locator(f"#{field}-year").fill(year)


def test_the_lead_records_the_letters_days_and_sees_the_statement_of_action_deadline(
    tab: Browsing, live_portal: LivePortal
) -> None:
    lead = tab
    lead.sign_in(live_portal.token("lead_inspector"))
    lead.goto(f"/inspections/{live_portal.inspection_id}/timeline")
    statement = lead.page.locator("#letter-deadline-statement_of_action")
    expect(statement.locator("[data-due]")).to_have_text(
        "Waiting for the day of the final letter sent."
    )
    lead.page.get_by_role("link", name="Change the day: Final letter sent").click()
    expect(lead.page.get_by_role("heading", level=1)).to_have_text("The letter’s days")
    lead.check("letter-days-form")

    # Thu 21 January 2027 is 9 working days after Friday 8 January.
    _fill_date(lead, "draft", "8", "1", "2027")
    _fill_date(lead, "final", "8", "2", "2027")
    lead.page.get_by_role("button", name="Save the letter’s days").click()

    expect(lead.page).to_have_url(re.compile(r"/timeline\?days=letter#after-fieldwork$"))
    expect(lead.page.locator(".govuk-notification-banner--success")).to_contain_text(
        "letter’s days are saved"
    )
    expect(statement.locator("[data-due]")).to_have_text("By 11:59pm Thursday 20 May 2027")
    expect(statement).to_contain_text(
        "within 70 working days of receiving the final letter of findings"
    )
    comments = lead.page.locator("#letter-deadline-factual_accuracy")
    expect(comments.locator("[data-due]")).to_have_text("By 11:59pm Thursday 21 January 2027")
    expect(lead.page.locator("#letter-days")).to_contain_text("Monday 8 February 2027")
    lead.check("timeline-after-fieldwork")


def test_a_letter_sent_before_its_draft_was_shared_is_shown_on_the_form(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("lead_inspector"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/letter")
    _fill_date(tab, "draft", "8", "2", "2027")
    _fill_date(tab, "final", "8", "1", "2027")
    tab.page.get_by_role("button", name="Save the letter’s days").click()

    expect(tab.page.locator(".govuk-error-summary")).to_contain_text("Check both days")
    assert tab.page.title().startswith("Error: ")
    tab.check("letter-days-form-error")
