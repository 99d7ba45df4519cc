"""An issue of concern on the pages (002 para 74 and Annex C): an inspector raises one with
the health service, which reads it from its checklist and uploads its written response;
the lead inspector evaluates the response, the health service signs for its chief officer
and the lead inspector signs: the concern is completed."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests import samples
from tests.browser.conftest import Browsing, LivePortal

ISSUES = "No strategy discussion was held after the disclosure of 2 December."
EVALUATION = "The response sets out the strategy discussion held on 9 December."


def _raise(tab: Browsing, live_portal: LivePortal) -> str:
    tab.sign_in(live_portal.token("inspector"))
    tab.page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Issues of concern"
    ).click()
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Issues of concern")
    expect(tab.page.locator("#guidance")).to_contain_text("senior officer")
    tab.check("concerns-none")
    tab.page.get_by_role("button", name="Raise an issue of concern").click()
    tab.check("concern-form")

    tab.page.get_by_role("button", name="Raise the concern").click()
    expect(tab.page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the case number of each child"
    )
    tab.check("concern-form-errors")

    tab.page.locator("#agency").select_option("health")
    tab.page.locator("#case-numbers").fill("C1001, C1002")
    tab.page.get_by_label(re.compile(r"^Category 1: Serious issue of concern")).check()
    tab.page.locator("#service").fill("Health visiting")
    tab.page.locator("#issues").fill(ISSUES)
    tab.page.locator("#required-day").fill("10")
    tab.page.locator("#required-month").fill("12")
    tab.page.locator("#required-year").fill("2026")
    tab.page.get_by_role("button", name="Raise the concern").click()
    expect(tab.page.locator(".govuk-notification-banner")).to_contain_text(
        "5pm Thursday 10 December"
    )
    expect(tab.page.locator("#concern-status")).to_contain_text("Awaiting response")
    expect(tab.page.locator("#concern-form-fields")).to_contain_text(ISSUES)
    tab.check("concern-raised")
    heading = tab.page.get_by_role("heading", level=1).inner_text()
    return heading.removeprefix("Issue of concern ").strip()


def test_a_concern_is_raised_answered_evaluated_and_signed_off_on_the_pages(
    tab: Browsing, live_portal: LivePortal
) -> None:
    ref = _raise(tab, live_portal)

    tab.sign_in(live_portal.token("health"))
    tab.page.get_by_role("link", name=f"Issue of concern {ref}: written response").click()
    expect(tab.page.locator("#concern-form-fields")).to_contain_text("C1001, C1002")
    expect(tab.page.locator("#concern-form-fields")).to_contain_text(ISSUES)
    tab.check("agency-concern")
    tab.page.get_by_role("button", name="Upload your written response").click()
    expect(tab.page.get_by_role("link", name="read the concern")).to_be_visible()
    tab.page.locator("input[type=file]").set_input_files(
        {"name": "response.pdf", "mimeType": "application/pdf", "buffer": samples.pdf_text_pages(1)}
    )
    tab.page.get_by_role("button", name="Upload file").click()
    tab.page.wait_for_load_state("load")
    assert tab.wait_for_final_status() == "Accepted"

    tab.sign_in(live_portal.token("lead_inspector"))
    tab.page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Issues of concern"
    ).click()
    expect(tab.page.locator("#concerns")).to_contain_text("Response received")
    tab.check("concerns-response-received")
    tab.page.get_by_role("link", name=f"Issue of concern {ref}").click()
    tab.page.locator("#evaluation").fill(EVALUATION)
    tab.page.get_by_role("button", name="Share the evaluation").click()
    expect(tab.page.locator("#concern-status")).to_contain_text("Evaluation shared")
    tab.check("concern-evaluated")

    tab.sign_in(live_portal.token("health"))
    tab.page.get_by_role("link", name=f"Issue of concern {ref}: written response").click()
    expect(tab.page.locator("#evaluation-text")).to_have_text(EVALUATION)
    tab.page.get_by_role("button", name="Sign off for your chief officer").click()
    expect(tab.page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the chief officer's name"
    )
    tab.check("agency-sign-off-errors")
    tab.page.locator("#chief-officer").fill("Dr A. Officer")
    tab.page.get_by_role("button", name="Sign off for your chief officer").click()
    expect(tab.page.locator("#signatures")).to_contain_text("Dr A. Officer")
    tab.check("agency-signed")

    tab.sign_in(live_portal.token("lead_inspector"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/concerns")
    tab.page.get_by_role("link", name=f"Issue of concern {ref}").click()
    tab.page.get_by_role("button", name="Sign off as lead inspector").click()
    expect(tab.page.locator("#concern-status")).to_contain_text("Completed")
    expect(tab.page.locator("#signatures")).not_to_contain_text("Not signed yet")
    tab.check("concern-completed")
