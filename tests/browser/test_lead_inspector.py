"""The lead inspector's pages: alerts of what is missing, the timeline and its moved
deadlines, and the shortlist and audit forms; and the refusals other roles get, as from the
API. Real browser, real app, real clamd."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests import samples
from tests.browser.conftest import Browsing, LivePortal

ITEM = "1.1 Local authority organisational structures"
WEEK2 = "week2_tuesday_5pm"
REASON = "The police asked for one more day: their records system was down on Monday."


def _csrf(tab: Browsing) -> str:
    """This browser's CSRF token, from the sign-out form (every session has one)."""
    tab.goto("/sign-out")
    return tab.page.locator("input[name=csrf_token]").first.get_attribute("value") or ""


def _post(tab: Browsing, path: str, form: dict[str, str | float | bool]) -> int:
    """A form POST from this browser's session (its cookies), as a crafted request."""
    return tab.page.request.post(tab.base_url + path, form=form, max_redirects=0).status


def _nav(tab: Browsing, name: str) -> None:
    tab.page.get_by_role("navigation", name="Menu").get_by_role("link", name=name).click()
    tab.page.wait_for_load_state("load")


def _task(tab: Browsing, name: str) -> None:
    """A task's page, from the lead's overview (the menu keeps only their daily pages)."""
    _nav(tab, "Your inspection")
    tab.page.get_by_role("main").get_by_role("link", name=name, exact=True).click()
    tab.page.wait_for_load_state("load")


def test_the_lead_sees_what_is_missing_and_it_changes_after_an_agency_uploads(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("lead_inspector"))
    _nav(tab, "Alerts")
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Alerts")
    owed = tab.page.locator(f"section[data-deadline={WEEK2}] [data-agency=local_authority]")
    before = int(owed.get_attribute("data-missing") or "0")
    assert before > 1
    expect(owed).to_contain_text(f"{before} of {before} required items still to send")
    owed.get_by_text(re.compile(r"^Show the \d+ missing")).click()
    expect(owed.get_by_role("listitem").filter(has_text=ITEM)).to_be_visible()
    expect(tab.page.locator("#messages")).to_have_count(0)
    tab.check("alerts-before-upload")

    response = live_portal.portal.upload("organisation.pdf", samples.pdf_text_pages(1))
    assert response.status_code == 202, response.text
    assert live_portal.portal.wait_final(response.json()["id"])["status"] == "accepted"

    tab.page.get_by_role("link", name="Check again").click()
    expect(owed).to_have_attribute("data-missing", str(before - 1))
    expect(owed).to_contain_text(f"{before - 1} of {before} required items still to send")
    expect(owed.get_by_role("listitem").filter(has_text=ITEM)).to_have_count(0)
    tab.check("alerts-after-upload")

    owed.get_by_role("link", name=re.compile(r"^See items")).click()
    expect(tab.page.get_by_role("heading", level=1)).to_contain_text("The local authority")
    expect(tab.page.locator("#items tr", has_text=ITEM).locator(".govuk-tag")).to_have_text(
        "Accepted"
    )
    tab.check("alerts-drill-down")


def test_the_lead_moves_a_deadline_with_a_reason_and_the_agency_checklist_follows(
    tab: Browsing, second_tab: Browsing, live_portal: LivePortal
) -> None:
    lead = tab
    lead.sign_in(live_portal.token("lead_inspector"))
    _task(lead, "Timeline")
    expect(lead.page.get_by_role("heading", level=1)).to_have_text("Timeline")
    card = lead.page.locator(f"#deadline-{WEEK2}")
    expect(card.locator(".govuk-summary-card__title")).to_contain_text("5pm Tuesday 1 December")
    expect(card).to_contain_text("The local authority:")
    lead.check("timeline")

    card.get_by_role("link", name=re.compile(r"^Move")).click()
    expect(lead.page.locator("#current-due")).to_contain_text("5pm Tuesday 1 December")
    expect(lead.page.locator("#due-day")).to_have_value("1")
    lead.check("move-deadline-form")
    lead.page.locator("#due-day").fill("2")
    lead.page.locator("#time-hour").fill("15")
    lead.page.locator("#time-minute").fill("00")
    lead.page.locator("#reason").fill(REASON)
    lead.page.get_by_role("button", name="Move deadline").click()

    expect(lead.page).to_have_url(re.compile(r"/timeline\?moved=" + WEEK2 + "$"))
    banner = lead.page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text("is now 3pm Wednesday 2 December")
    expect(card.locator(".govuk-summary-card__title")).to_contain_text("3pm Wednesday 2 December")
    expect(card.locator(".govuk-tag", has_text="Moved")).to_be_visible()
    expect(card.locator("[data-moved] dd")).to_contain_text("From 5pm Tuesday 1 December, by you")
    expect(card.locator("[data-reason]")).to_have_text(REASON)
    lead.check("timeline-moved")

    agency = second_tab
    agency.sign_in(live_portal.token("local_authority"))
    expect(agency.page.locator(f"#deadline-{WEEK2}")).to_contain_text(
        "Due by 3pm Wednesday 2 December"
    )
    agency.check("checklist-after-move")


def test_moving_a_deadline_without_a_reason_shows_the_error_summary(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("lead_inspector"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/timeline/{WEEK2}")
    tab.page.get_by_role("button", name="Move deadline").click()

    summary = tab.page.locator(".govuk-error-summary")
    link = summary.get_by_role("link", name="Enter why you are moving this deadline")
    expect(link).to_have_attribute("href", "#reason")
    expect(tab.page.locator("#reason-error")).to_contain_text(
        "Enter why you are moving this deadline"
    )
    assert tab.page.title().startswith("Error: ")
    tab.check("move-without-reason")

    tab.page.locator("#due-day").fill("31")
    tab.page.locator("#due-month").fill("2")
    tab.page.locator("#time-hour").fill("25")
    tab.page.locator("#reason").fill(REASON)
    tab.page.get_by_role("button", name="Move deadline").click()
    expect(summary).to_contain_text("The new date must be a real date")
    expect(summary).to_contain_text("The hour must be between 0 and 23")
    expect(summary).not_to_contain_text("Enter why")
    expect(tab.page.locator("#reason")).to_have_value(REASON)
    tab.check("move-with-wrong-date-and-time")

    timeline = live_portal.portal.client.get(
        f"/v1/inspections/{live_portal.inspection_id}", headers=live_portal.portal.auth("admin")
    ).json()
    assert not any(d["moved"] for d in timeline["deadlines"])


def test_the_lead_shortlists_and_chooses_children_to_audit_and_sees_them_listed(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("lead_inspector"))
    _task(tab, "Children")
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Children")
    expect(tab.page.locator("#current-shortlist")).to_have_text(
        "No children have been shortlisted yet."
    )
    tab.check("children-empty")

    tab.page.locator("#shortlist").fill("C-101\nJane Smith\nC-102")
    tab.page.get_by_role("button", name="Save shortlist").click()
    summary = tab.page.locator(".govuk-error-summary")
    expect(summary.get_by_role("link")).to_have_text(
        re.compile(r"^Enter each child’s unique ID, not their name.*check entry 2$")
    )
    expect(summary.get_by_role("link")).to_have_attribute("href", "#shortlist")
    expect(tab.page.locator("#shortlist")).to_have_value("C-101\nJane Smith\nC-102")
    tab.check("shortlist-with-a-name")

    shortlist = [f"C-{n}" for n in range(101, 121)]
    tab.page.locator("#shortlist").fill("\n".join([*shortlist, "C-999"]))
    tab.page.get_by_role("button", name="Save shortlist").click()
    expect(summary).to_contain_text("Enter no more than 20 children for the shortlist")

    tab.page.locator("#shortlist").fill("\n".join(shortlist))
    tab.page.get_by_role("button", name="Save shortlist").click()
    expect(summary.get_by_role("link")).to_contain_text(
        "Not on any accepted list of children of this inspection: C-101, C-102"
    )
    live_portal.portal.accept_list(shortlist)

    tab.page.get_by_role("button", name="Save shortlist").click()
    expect(tab.page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Shortlist saved: 20 children"
    )
    expect(tab.page.locator("#current-shortlist li")).to_have_text(shortlist)
    tab.check("shortlist-saved")

    for child in shortlist[:5]:
        tab.page.get_by_role("checkbox", name=child, exact=True).check()
    tab.page.get_by_role("button", name="Save children to audit").click()
    expect(summary.get_by_role("link")).to_have_text("Select 6 children to audit (you selected 5)")
    expect(summary.get_by_role("link")).to_have_attribute("href", "#audit")
    expect(tab.page.locator("#audit-error")).to_be_visible()
    tab.check("audit-too-few")

    tab.page.get_by_role("checkbox", name=shortlist[5], exact=True).check()
    tab.page.get_by_role("button", name="Save children to audit").click()
    expect(tab.page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Children to audit saved: 6 children"
    )
    expect(tab.page.locator("#current-audit li")).to_have_text(shortlist[:6])
    slots = tab.page.locator("#case-record-slots tbody tr")
    expect(slots.filter(has_text="The local authority")).to_have_count(6)
    tab.check("audit-saved")

    chosen = live_portal.portal.client.get(
        f"/v1/inspections/{live_portal.inspection_id}/selections",
        headers=live_portal.portal.auth("inspector"),
    ).json()
    assert chosen["shortlist"] == shortlist and chosen["audit"] == shortlist[:6]


def test_the_lead_sees_which_list_misses_the_age_mix_the_guidance_asks_for(
    tab: Browsing, live_portal: LivePortal
) -> None:
    short_of_ages = (
        b"Child ID,Age group,Agencies involved\r\n"
        b"DA-001,Unborn,Police\r\nDA-002,Under 2,Health\r\nDA-003,5 to 7,Police\r\n"
    )
    portal = live_portal.portal
    uploaded = portal.upload("ten.csv", short_of_ages, item="list:at_least_two_agencies_involved")
    assert uploaded.status_code == 202, uploaded.text
    assert portal.wait_final(uploaded.json()["id"])["status"] == "accepted"

    tab.sign_in(live_portal.token("lead_inspector"))
    _task(tab, "Children")
    notes = tab.page.locator("#mix-notes")
    expect(notes).to_contain_text("This list misses the mix of children the guidance asks for")
    expect(notes).to_contain_text("children aged 2 to 4 years old: 0")
    tab.check("children-mix-notes")


def test_an_inspector_who_is_not_the_lead_cannot_move_deadlines_or_choose_children(
    tab: Browsing, live_portal: LivePortal
) -> None:
    inspection = live_portal.inspection_id
    tab.sign_in(live_portal.token("inspector"))
    csrf = _csrf(tab)
    move: dict[str, str | float | bool] = {
        "csrf_token": csrf,
        "due-day": "2",
        "due-month": "12",
        "due-year": "2026",
        "time-hour": "15",
        "time-minute": "00",
        "reason": REASON,
    }
    assert _post(tab, f"/inspections/{inspection}/timeline/{WEEK2}", move) == 403
    choose: dict[str, str | float | bool] = {
        "csrf_token": csrf,
        "stage": "shortlist",
        "shortlist": "C-101",
    }
    assert _post(tab, f"/inspections/{inspection}/children", choose) == 403

    form = tab.goto(f"/inspections/{inspection}/timeline/{WEEK2}")
    assert form is not None and form.status == 403
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("You cannot see this page")
    tab.check("inspector-move-form-refused")

    page = tab.goto(f"/inspections/{inspection}/children")
    assert page is not None and page.status == 200
    expect(tab.page.get_by_role("button", name="Save shortlist")).to_have_count(0)
    tab.check("inspector-children")

    api = live_portal.portal
    timeline = api.client.get(f"/v1/inspections/{inspection}", headers=api.auth("admin")).json()
    assert not any(d["moved"] for d in timeline["deadlines"])
    chosen = api.client.get(f"/v1/inspections/{inspection}/selections", headers=api.auth("admin"))
    assert chosen.json()["shortlist"] == []


def test_an_agency_uploader_is_answered_as_the_api_answers_it(
    tab: Browsing, live_portal: LivePortal
) -> None:
    inspection = live_portal.inspection_id
    api = live_portal.portal
    tab.sign_in(live_portal.token("health"))
    csrf = _csrf(tab)

    def api_status(method: str, path: str, body: object = None) -> int:
        response = api.client.request(
            method, f"/v1/inspections/{inspection}{path}", headers=api.auth("health"), json=body
        )
        status: int = response.status_code
        return status

    alerts = tab.goto(f"/inspections/{inspection}/alerts")
    assert alerts is not None and alerts.status == api_status("GET", "/alerts") == 403
    tab.check("uploader-alerts-refused")
    move: dict[str, str | float | bool] = {"csrf_token": csrf, "reason": REASON}
    assert _post(tab, f"/inspections/{inspection}/timeline/{WEEK2}", move) == 403
    assert (
        api_status(
            "PUT", f"/deadlines/{WEEK2}", {"due": "2026-12-02T15:00:00+00:00", "reason": REASON}
        )
        == 403
    )
    choose: dict[str, str | float | bool] = {
        "csrf_token": csrf,
        "stage": "shortlist",
        "shortlist": "C-101",
    }
    assert _post(tab, f"/inspections/{inspection}/children", choose) == 403
    assert api_status("POST", "/selections", {"stage": "shortlist", "child_ids": ["C-101"]}) == 403

    children = tab.goto(f"/inspections/{inspection}/children")
    assert children is not None and children.status == api_status("GET", "/selections") == 200
    expect(tab.page.get_by_role("button", name="Save shortlist")).to_have_count(0)
    tab.check("uploader-children")

    elsewhere = "/inspections/" + "0" * 32 + "/alerts"
    other = tab.goto(elsewhere)
    expected = api.client.get("/v1" + elsewhere, headers=api.auth("health")).status_code
    assert other is not None and other.status == expected
