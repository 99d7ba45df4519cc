"""An administrator starts on the list of inspections and finds each one again; a lead
inspector starts on "Your inspection", which lists their tasks in the order of the
inspection and reaches every page of theirs."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from tests.browser.conftest import Browsing, LivePortal
from tests.factories import TEST_NOW, settable_clock

DOMESTIC_ABUSE = "Children who are victims of domestic abuse (September 2024)"


def _menu(tab: Browsing) -> list[str]:
    links = tab.page.get_by_role("navigation", name="Menu").get_by_role("link")
    return [text.strip() for text in links.all_inner_texts()]


def _create_solihull(tab: Browsing) -> str:
    tab.page.get_by_role("button", name="Create an inspection").click()
    tab.page.get_by_role("radio", name=DOMESTIC_ABUSE).check()
    tab.page.get_by_role("button", name="Continue").click()
    tab.page.get_by_label("Local area").fill("Solihull")
    for part, value in (("day", "5"), ("month", "4"), ("year", "2027")):
        tab.page.locator(f"#fieldwork-{part}").fill(value)
    tab.page.get_by_role("button", name="Create the inspection").click()
    expect(tab.page).to_have_url(re.compile(r"/inspections/[0-9a-f]{32}/timeline\?created=1$"))
    return tab.page.url.split("/inspections/")[1].split("/")[0]


def test_the_administrator_starts_on_the_inspections_and_finds_a_new_one_again(
    tab: Browsing, live_portal: LivePortal
) -> None:
    testshire = live_portal.inspection_id
    tab.sign_in(live_portal.token("admin"))
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Inspections")
    assert _menu(tab) == ["Inspections", "Create an inspection", "Scanner", "Sign out"]
    row = tab.page.locator(f"tr[data-inspection='{testshire}']")
    expect(row.get_by_role("rowheader")).to_have_text("Testshire")
    expect(row).to_contain_text(DOMESTIC_ABUSE)
    expect(row).to_contain_text("Monday 23 November 2026")
    expect(row).to_contain_text("Monday 7 December 2026")
    expect(row.locator(".govuk-tag")).to_have_text("Open")
    tab.check("inspections")

    settable_clock(live_portal.portal.container).set(TEST_NOW + timedelta(hours=1))
    solihull = _create_solihull(tab)
    tab.page.get_by_role("navigation", name="Menu").get_by_role("link", name="Inspections").click()
    rows = tab.page.locator("#inspections tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-inspection", solihull)
    expect(rows.first).to_contain_text("Monday 5 April 2027")
    tab.check("inspections-newest-first")

    actions = rows.first.get_by_role("link")
    expect(actions).to_have_text(
        ["Timeline of Solihull", "People and tokens of Solihull", "On-site viewing of Solihull"]
    )
    rows.first.get_by_role("link", name="People and tokens of Solihull").click()
    expect(tab.page).to_have_url(re.compile(f"/inspections/{solihull}/people$"))
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("People and tokens")
    tab.page.go_back()
    tab.page.get_by_role("link", name="On-site viewing of Solihull").click()
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("On-site viewing")


def test_someone_of_one_inspection_finds_only_their_own_in_the_list(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("inspector"))
    tab.goto("/inspections")
    rows = tab.page.locator("#inspections tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-inspection", live_portal.inspection_id)
    expect(rows.first.get_by_role("link")).to_have_text(["Timeline of Testshire"])
    expect(tab.page.get_by_role("button", name="Create an inspection")).to_have_count(0)
    tab.check("inspections-inspector")


# (task, its status on a new inspection, the heading of its page)
TASKS = [
    ("The inspection’s days", "Completed", "The inspection’s days"),
    ("People and tokens", "In progress", "People and tokens"),
    ("On-site viewing of health records", "Not yet started", "On-site viewing"),
    ("Timeline", "No moves", "Timeline"),
    ("Children", "Not yet started", "Children"),
    ("Ask an agency for more", "None asked", "Ask an agency for more"),
    ("Name register", "No names", "Name register"),
    ("Issues of concern", "None raised", "Issues of concern"),
    ("The letter’s days", "Not yet started", "The letter’s days"),
]


def test_the_lead_starts_on_your_inspection_and_reaches_every_task_from_it(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("lead_inspector"))
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Your inspection")
    assert _menu(tab) == [
        "Your inspection",
        "Completeness",
        "Alerts",
        "Documents",
        "Issues of concern",
        "Names",
        "Sign out",
    ]
    tasks = tab.page.locator(".govuk-task-list__item")
    expect(tasks.locator(".govuk-task-list__link")).to_have_text(
        [name for name, _status, _heading in TASKS]
    )
    expect(tab.page.get_by_role("heading", level=2)).to_have_text(
        [
            "Set up the inspection",
            "Before fieldwork",
            "During the inspection",
            "After fieldwork",
            "Follow the inspection",
        ]
    )
    tab.check("overview")

    overview = tab.page.url
    for name, status, heading in TASKS:
        task = tasks.filter(has=tab.page.get_by_role("link", name=name, exact=True))
        expect(task.locator(".govuk-task-list__status")).to_have_text(status)
        task.get_by_role("link", name=name, exact=True).click()
        expect(tab.page.get_by_role("heading", level=1)).to_have_text(heading)
        # The overview stays the current section of the menu, except for its own entries.
        if name not in ("Name register", "Issues of concern"):
            expect(tab.page.locator("[aria-current=true]")).to_have_text("Your inspection")
        tab.goto(overview.removeprefix(tab.base_url))
    for name in ("Completeness", "Alerts", "Documents"):
        tab.page.locator("#tracking").get_by_role("link", name=name).click()
        expect(tab.page.get_by_role("heading", level=1)).to_contain_text(name)
        tab.goto(overview.removeprefix(tab.base_url))

    recorded = live_portal.portal.client.post(
        f"/v1/inspections/{live_portal.inspection_id}/name-register",
        headers=live_portal.portal.auth("lead_inspector"),
        json={"name": "Jayden Okafor", "reference": "C104"},
    )
    assert recorded.status_code == 201, recorded.text
    tab.page.reload()
    expect(tab.page.locator("#names-status")).to_have_text("1 name")


def test_the_overview_is_the_leads_and_an_inspector_is_refused_it(
    tab: Browsing, live_portal: LivePortal
) -> None:
    tab.sign_in(live_portal.token("inspector"))
    response = tab.goto(f"/inspections/{live_portal.inspection_id}")
    assert response is not None and response.status == 403
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("You cannot see this page")
