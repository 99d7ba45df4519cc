"""An inspection is set up through the pages alone: an administrator creates it, the lead
issues tokens to its people and registers where and when health records are viewed on
site; an inspector or an uploader is refused each page, as the API refuses them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.sync_api import Locator, expect

from portal.domain.chase import Contacts
from tests.browser.conftest import Browsing, LivePortal

DOMESTIC_ABUSE = "Children who are victims of domestic abuse (September 2024)"


def _fill_date(tab: Browsing, field: str, *parts: str) -> None:
    names = ("day", "month", "year") if len(parts) == 3 else ("hour", "minute")
    for name, value in zip(names, parts, strict=True):
        tab.page.locator(f"#{field}-{name}").fill(value)


def _nav(tab: Browsing, name: str) -> None:
    tab.page.get_by_role("navigation", name="Menu").get_by_role("link", name=name).click()
    tab.page.wait_for_load_state("load")


def _task(tab: Browsing, name: str) -> None:
    """A task's page, from the lead's overview (the menu keeps only their daily pages)."""
    _nav(tab, "Your inspection")
    tab.page.get_by_role("main").get_by_role("link", name=name, exact=True).click()
    tab.page.wait_for_load_state("load")


def _theme(tab: Browsing, title: str) -> Locator:
    """Choose a theme variant and continue to the form with its agencies and contacts."""
    tab.page.get_by_role("radio", name=title).check()
    tab.page.get_by_role("button", name="Continue").click()
    expect(tab.page.locator("#chosen-theme")).to_have_text(title)
    return tab.page.locator("form[method=post]")


def _csrf(tab: Browsing) -> str:
    tab.goto("/sign-out")
    return tab.page.locator("input[name=csrf_token]").first.get_attribute("value") or ""


def _post(tab: Browsing, path: str, form: dict[str, str | float | bool]) -> int:
    return tab.page.request.post(tab.base_url + path, form=form, max_redirects=0).status


def test_an_administrator_creates_an_inspection_and_lands_on_its_timeline(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("admin"))
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Inspections")
    tab.page.get_by_role("button", name="Create an inspection").click()
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Create an inspection")
    tab.page.get_by_role("button", name="Continue").click()
    expect(tab.page.locator(".govuk-error-summary")).to_contain_text("Select the theme variant")
    tab.check("new-inspection-theme-missing")

    agencies = _theme(tab, DOMESTIC_ABUSE)
    expect(agencies.get_by_role("checkbox", name="The police force")).to_be_checked()
    agencies.get_by_role("checkbox", name="Probation partners").uncheck()
    agencies.get_by_label("The police force: e-mail addresses").fill(
        "duty@police.example.org\nmash@police.example.org"
    )
    tab.page.get_by_label("Local area").fill("Solihull")
    _fill_date(tab, "fieldwork", "5", "4", "2027")
    tab.page.get_by_label("The lead inspector’s e-mail addresses").fill("lead@ofsted.example")
    tab.check("new-inspection-filled")
    tab.page.get_by_role("button", name="Create the inspection").click()

    expect(tab.page).to_have_url(re.compile(r"/inspections/[0-9a-f]{32}/timeline\?created=1$"))
    expect(tab.page.locator("dd#fieldwork-day")).to_have_text("Monday 5 April 2027")
    expect(tab.page.locator("dd#notification-day")).to_contain_text("(worked out")
    banner = tab.page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("The inspection is created")
    expect(banner.get_by_role("link", name="People and tokens")).to_be_visible()
    tab.check("created-timeline")
    inspection_id = tab.page.url.split("/inspections/")[1].split("/")[0]
    container = live_portal.portal.container
    created = container.repository.get_inspection(inspection_id)
    assert created is not None and created.area_name == "Solihull"
    assert "probation" not in created.agencies and "police" in created.agencies
    assert container.repository.contacts(inspection_id) == Contacts(
        lead_inspector=("lead@ofsted.example",),
        agencies={"police": ("duty@police.example.org", "mash@police.example.org")},
    )


def test_creating_an_inspection_on_a_day_that_is_not_a_working_day_says_so_on_the_form(
    tab: Browsing, live_portal: LivePortal
) -> None:
    inspection = live_portal.inspection_id
    tab.sign_in(live_portal.token("admin"))
    tab.goto("/inspections/new")
    _theme(tab, DOMESTIC_ABUSE)
    tab.page.get_by_label("Local area").fill("Solihull")
    _fill_date(tab, "fieldwork", "3", "4", "2027")
    tab.page.get_by_role("button", name="Create the inspection").click()

    expect(tab.page.locator(".govuk-error-summary")).to_contain_text(
        "Saturday 3 April 2027, is not a working day"
    )
    expect(tab.page.locator("#fieldwork-error")).to_contain_text("is not a working day")
    expect(tab.page.get_by_label("Local area")).to_have_value("Solihull")
    assert tab.page.title().startswith("Error: ")
    tab.check("new-inspection-refused")
    assert live_portal.portal.container.repository.list_inspection_ids() == [inspection]


def test_the_lead_issues_an_uploader_token_shown_once_that_signs_its_holder_in(
    tab: Browsing, second_tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("lead_inspector"))
    _task(tab, "People and tokens")
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("People and tokens")
    people = tab.page.locator("#people tbody tr")
    expect(people).to_have_count(4)
    expect(people.filter(has_text="Health partners")).to_contain_text("Agency uploader")
    tab.check("people")

    tab.page.get_by_role("radio", name="Agency uploader").check()
    tab.page.get_by_label("Agency", exact=True).select_option(label="The police force")
    tab.page.get_by_label("Label").fill("Police: J Smith")
    tab.page.get_by_role("button", name="Issue the token").click()

    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Copy the new token now")
    expect(tab.page.locator(".govuk-warning-text")).to_contain_text("only time the token is shown")
    token = tab.page.locator("#new-token").inner_text().strip()
    assert token.startswith("jtai_")
    tab.check("token-issued")

    second_tab.sign_in(token)
    expect(second_tab.page).to_have_url(re.compile(r"/checklist$"))
    expect(second_tab.page.get_by_role("navigation", name="Menu")).to_contain_text("Your checklist")

    tab.page.get_by_role("link", name="I have copied the token").click()
    row = tab.page.locator("#people tbody tr", has_text="Police: J Smith")
    expect(row).to_contain_text("The police force")
    expect(row).to_contain_text("In use")
    assert token not in tab.page.content()


def test_an_uploader_token_without_an_agency_is_refused_on_the_form(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("lead_inspector"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/people")
    tab.page.get_by_role("radio", name="Agency uploader").check()
    tab.page.get_by_role("button", name="Issue the token").click()

    expect(tab.page.locator(".govuk-error-summary")).to_contain_text(
        "Select the agency the uploader sends documents for"
    )
    expect(tab.page.locator("#people tbody tr")).to_have_count(4)
    tab.check("token-refused")


def test_the_lead_registers_the_venues_and_a_viewing_window_inside_fieldwork(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("lead_inspector"))
    _task(tab, "On-site viewing of health records")
    expect(tab.page.locator("#fieldwork-days")).to_contain_text("Monday 7 December 2026")
    tab.check("onsite")
    tab.page.get_by_label("The venues’ networks").fill("192.0.2.0/24\n2001:db8::/48")
    _fill_date(tab, "start", "8", "12", "2026")
    _fill_date(tab, "start-time", "9", "00")
    _fill_date(tab, "end", "9", "12", "2026")
    _fill_date(tab, "end-time", "17", "30")
    tab.page.get_by_role("button", name="Save the venues and window").click()

    expect(tab.page).to_have_url(re.compile(r"/onsite\?saved=1$"))
    expect(tab.page.locator(".govuk-notification-banner--success")).to_contain_text("saved")
    expect(tab.page.locator("#start-time-hour")).to_have_value("9")
    tab.check("onsite-saved")
    policy = live_portal.portal.container.repository.onsite_policy(live_portal.inspection_id)
    assert [str(n) for n in policy.networks] == ["192.0.2.0/24", "2001:db8::/48"]
    assert policy.window_start == datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    assert policy.window_end == datetime(2026, 12, 9, 17, 30, tzinfo=UTC)


def test_a_viewing_window_outside_fieldwork_is_refused_naming_fieldworks_days(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("lead_inspector"))
    tab.goto(f"/inspections/{live_portal.inspection_id}/onsite")
    tab.page.get_by_label("The venues’ networks").fill("192.0.2.0/24")
    _fill_date(tab, "start", "1", "12", "2026")
    _fill_date(tab, "start-time", "9", "00")
    _fill_date(tab, "end", "2", "12", "2026")
    _fill_date(tab, "end-time", "17", "00")
    tab.page.get_by_role("button", name="Save the venues and window").click()

    summary = tab.page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Health records are viewed only during fieldwork")
    expect(summary).to_contain_text("Monday 7 December 2026 to")
    tab.check("onsite-refused")
    policy = live_portal.portal.container.repository.onsite_policy(live_portal.inspection_id)
    assert policy.window_start is None and policy.networks == ()


def test_an_inspector_and_an_uploader_are_refused_the_set_up_pages_as_the_api_refuses_them(
    tab: Browsing, second_tab: Browsing, live_portal: LivePortal
) -> None:
    inspection = live_portal.inspection_id
    api = live_portal.portal
    for browsing, who in ((tab, "inspector"), (second_tab, "health")):
        browsing.sign_in(live_portal.token(who))
        menu = browsing.page.get_by_role("navigation", name="Menu")
        for link in ("People", "On-site viewing", "Create an inspection"):
            expect(menu.get_by_role("link", name=link)).to_have_count(0)
        csrf = _csrf(browsing)

        def api_status(method: str, path: str, who: str = who) -> int:
            status: int = api.client.request(
                method, path, headers=api.auth(who), json={}
            ).status_code
            return status

        for page, api_path, method in (
            ("/inspections/new", "/v1/inspections", "POST"),
            (f"/inspections/{inspection}/people", f"/v1/inspections/{inspection}/tokens", "POST"),
            (f"/inspections/{inspection}/onsite", f"/v1/inspections/{inspection}/onsite", "PUT"),
        ):
            shown = browsing.goto(page)
            assert shown is not None and shown.status == api_status(method, api_path) == 403
            assert _post(browsing, page, {"csrf_token": csrf}) == 403
        expect(browsing.page.get_by_role("heading", level=1)).to_have_text(
            "You cannot see this page"
        )
        browsing.check(f"{who}-refused")
    assert api.container.repository.onsite_policy(inspection).networks == ()
