"""A whole inspection through the pages, as the guidance describes it: a domestic abuse
inspection (seeds/001) and a serious youth violence one (seeds/004), both notified on
Monday 22 March 2027, so that Good Friday (26 March) and Easter Monday (29 March) fall in
weeks 1 and 2. Every person works through the pages only: the administrator creates the
inspection and registers the lead; the lead issues the agencies' tokens, checks the
timeline, chooses the children, asks for more and records the letter's days; each agency
fulfils its own checklist; an inspector records what was seen on site. The clock is the
portal's (the Clock port), set to each day of the guidance's timeline in turn; the chase
run is the scheduler's, called as the scheduler calls it.

The timeline is compared with a table worked out here by hand from the guidance's words
(week 1 from Monday 22 March 2027):
- "By 5pm on Tuesday in week 1", "By 5pm on Wednesday", "By 5pm on Thursday in week 1":
  23, 24 and 25 March, no bank holiday.
- "By 11am on Friday in week 1/one": Friday 26 March is Good Friday and Monday 29 March
  Easter Monday: the next working day, Tuesday 30 March, 11am.
- "by 5pm on Tuesday in week 2" (case records of the children chosen that Friday): on
  Tuesday 30 March it would fall on the day of the choice it depends on; the next working
  day, Wednesday 31 March, 5pm.
- Thursday of week 2 (the audits): Thursday 1 April, after the choice; 5pm (004) or the end
  of the day (001).
- After fieldwork (week 3, from Monday 5 April): the draft letter shared on Friday 30 April;
  "9 working days" for comments, past the early May bank holiday (Monday 3 May): Friday 14
  May. The final letter sent on Thursday 3 June; "within 70 working days": 14 weeks of
  weekdays to Thursday 9 September, one more for the summer bank holiday (Monday 30
  August): Friday 10 September 2027.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

import pytest
from playwright.sync_api import expect

from portal.domain.access import Role
from portal.domain.checklist import ChildList, ThemePolicy
from portal.domain.timeline import LONDON
from portal.services.chasing import plan_all
from portal.services.identities import issue_token
from tests import samples
from tests.browser.conftest import Browsing, LivePortal
from tests.factories import settable_clock

NOTIFIED = date(2027, 3, 22)
SHORTLIST = [f"EA-{n:03d}" for n in range(1, 21)]
TEN_LISTED = [f"EB-{n:03d}" for n in range(1, 9)]
AGE_GROUPS = ["unborn", "under 2", "2 to 4", "5 to 7"]
THE_PDF = {"name": "answer.pdf", "mimeType": "application/pdf", "buffer": b""}


@dataclass(frozen=True)
class Case:
    """One theme's inspection: its title on the form, how many children are audited, and
    the timeline worked out by hand (deadline key: the words the timeline shows)."""

    theme_title: str
    audited: int
    timeline: dict[str, str]
    health_seen_on_site: bool


WEEKS_1_AND_2 = {
    "week1_tuesday_5pm": "5pm Tuesday 23 March",
    "week1_wednesday_5pm": "5pm Wednesday 24 March",
    "week1_thursday_5pm": "5pm Thursday 25 March",
    "week1_friday_11am": "11am Tuesday 30 March",
    "week2_tuesday_5pm": "5pm Wednesday 31 March",
}
DOMESTIC_ABUSE = Case(
    "Children who are victims of domestic abuse (September 2024)",
    audited=6,
    timeline={**WEEKS_1_AND_2, "week2_end_of_thursday": "11:59pm Thursday 1 April"},
    health_seen_on_site=False,
)
SERIOUS_YOUTH_VIOLENCE = Case(
    "Serious youth violence (September 2023)",
    audited=6,
    timeline={**WEEKS_1_AND_2, "week2_thursday_5pm": "5pm Thursday 1 April"},
    health_seen_on_site=True,
)
LETTER = {
    "factual_accuracy": "11:59pm Friday 14 May",
    "statement_of_action": "11:59pm Friday 10 September",
}


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


def _fill_date(tab: Browsing, field: str, day: date) -> None:
    for part, value in (("day", day.day), ("month", day.month), ("year", day.year)):
        tab.page.locator(f"#{field}-{part}").fill(str(value))


# -- the administrator and the lead set the inspection up ----------------------------------


def _create(admin: Browsing, case: Case) -> str:
    admin.goto("/inspections/new")
    admin.page.get_by_role("radio", name=case.theme_title).check()
    admin.page.get_by_role("button", name="Continue").click()
    admin.page.get_by_label("Local area").fill("Eastershire")
    _fill_date(admin, "notification", NOTIFIED)
    admin.page.get_by_label("The lead inspector’s e-mail addresses").fill("lead@ofsted.example")
    for box in admin.page.locator("textarea[id^='contacts-']").all():
        code = (box.get_attribute("id") or "").split("-", 2)[2]
        box.fill(f"{code.replace('_', '.')}@agency.example")
    admin.page.get_by_role("button", name="Create the inspection").click()
    expect(admin.page).to_have_url(re.compile(r"/inspections/[0-9a-f]{32}/timeline"))
    expect(admin.page.locator("dd#notification-day")).to_have_text("Monday 22 March 2027")
    expect(admin.page.locator("dd#fieldwork-day")).to_contain_text("Monday 5 April 2027")
    return admin.page.url.split("/inspections/")[1].split("/")[0]


def _issue_token(tab: Browsing, inspection_id: str, role: str, agency: str | None) -> str:
    tab.goto(f"/inspections/{inspection_id}/people")
    tab.page.get_by_role("radio", name=role, exact=True).check()
    if agency is not None:
        tab.page.get_by_label("Agency", exact=True).select_option(agency)
    tab.page.get_by_label("Label").fill(f"{role}: {agency or 'team'}")
    tab.page.get_by_role("button", name="Issue the token").click()
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Copy the new token now")
    return tab.page.locator("#new-token").inner_text().strip()


def _check_timeline(lead: Browsing, inspection_id: str, case: Case) -> None:
    lead.goto(f"/inspections/{inspection_id}/timeline")
    shown = {
        key: card.locator(".govuk-summary-card__title").inner_text()
        for card in lead.page.locator("[data-deadline]").all()
        if (key := card.get_attribute("data-deadline") or "") in case.timeline
    }
    assert set(shown) == set(case.timeline)
    for key, words in case.timeline.items():
        assert shown[key].startswith(words), (key, shown[key])
    # The two deadlines Easter moved say so, and why.
    expect(lead.page.locator("#deadline-week1_friday_11am [data-shifted]")).to_contain_text(
        "Friday 26 March 2027 and Monday 29 March 2027 are bank holidays"
    )
    expect(lead.page.locator("#deadline-week2_tuesday_5pm [data-shifted]")).to_contain_text(
        "It depends on “By 11am on Friday in week"
    )
    lead.check("timeline-easter")


# -- the agencies fulfil their checklists --------------------------------------------------


def _list_csv(definition: ChildList, children: list[str]) -> bytes:
    fields = [f for f in definition.extra_fields if f.heading]
    header = ["Child ID", *(f.name for f in fields)]
    if definition.mix is not None:
        header.append(definition.mix.column)
    lines = [",".join(f'"{h}"' for h in header)]
    for n, child in enumerate(children):
        row = [child, *(f.allowed_values[0] if f.allowed_values else "x" for f in fields)]
        if definition.mix is not None:
            row.append(AGE_GROUPS[n % len(AGE_GROUPS)])
        lines.append(",".join(row))
    return ("\r\n".join(lines) + "\r\n").encode()


def _upload(tab: Browsing, href: str, name: str, data: bytes) -> None:
    tab.goto(href)
    date_field = tab.page.locator("#document-date-day")
    if date_field.count():
        _fill_date(tab, "document-date", NOTIFIED)
    tab.page.locator("input[type=file]").set_input_files(
        {"name": name, "mimeType": "application/octet-stream", "buffer": data}
    )
    tab.page.get_by_role("button", name="Upload file").click()
    expect(tab.page).to_have_url(re.compile(r"/documents/[0-9a-f]{32}$"))


def _open_items(
    tab: Browsing, inspection_id: str, kinds: tuple[str, ...], *, required_only: bool = False
) -> list[str]:
    """The links of the checklist's items of `kinds` (key prefixes) not yet fulfilled
    (only those not marked optional, if `required_only`)."""
    tab.goto(f"/inspections/{inspection_id}/checklist")
    hrefs = []
    for item in tab.page.locator(".govuk-task-list__item").all():
        status = item.locator(".govuk-task-list__status").inner_text().strip()
        href = item.locator("a").get_attribute("href") or ""
        key = href.split("/items/")[1].rsplit("/", 1)[0]
        wanted = not (required_only and "Optional." in item.inner_text())
        if key.startswith(kinds) and status in ("Not started", "Rejected") and wanted:
            hrefs.append(href)
    return hrefs


def _send_lists(agency: Browsing, inspection_id: str, theme: ThemePolicy, code: str) -> None:
    for definition in (c for c in theme.child_lists if c.agency == code):
        children = TEN_LISTED if definition.max_children else SHORTLIST
        _upload(
            agency,
            f"/inspections/{inspection_id}/items/list:{definition.key}/upload",
            "list.csv",
            _list_csv(definition, children),
        )


def _fulfil(agency: Browsing, inspection_id: str, kinds: tuple[str, ...]) -> int:
    """Upload an answer to every open item of `kinds` on this agency's checklist."""
    hrefs = _open_items(agency, inspection_id, kinds)
    for href in hrefs:
        _upload(agency, href, "answer.pdf", samples.pdf_text_pages(1))
    return len(hrefs)


def _wait_accepted(agency: Browsing, inspection_id: str, kinds: tuple[str, ...]) -> None:
    """Until every item of `kinds` on the checklist is accepted or arranged."""
    for _ in range(180):
        agency.goto(f"/inspections/{inspection_id}/checklist")
        states = [
            item.locator(".govuk-task-list__status").inner_text().strip()
            for item in agency.page.locator(".govuk-task-list__item").all()
            if (item.locator("a").get_attribute("href") or "").split("/items/")[1].startswith(kinds)
        ]
        assert "Rejected" not in states, states
        if all(s in ("Accepted", "Arranged") for s in states):
            return
        agency.page.wait_for_timeout(500)
    raise AssertionError(f"not all accepted: {states}")


def _reminded(live_portal: LivePortal, inspection_id: str, at: datetime) -> dict[str, str]:
    """The scheduler's chase plan at `at`: each agency's reminders, one text."""
    bodies: dict[str, str] = {}
    for m in plan_all(live_portal.portal.container, at):
        if m.inspection_id == inspection_id and m.agency and m.kind.value == "reminder":
            bodies[m.agency] = bodies.get(m.agency, "") + m.body
    return bodies


# -- the test ---------------------------------------------------------------------------


def _task(lead: Browsing, name: str) -> None:
    """From the lead's overview, the task of that name (the lead's pages are reached so)."""
    lead.page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Your inspection"
    ).click()
    lead.page.get_by_role("link", name=name, exact=True).click()
    lead.page.wait_for_load_state("load")


@pytest.mark.parametrize("case", [DOMESTIC_ABUSE, SERIOUS_YOUTH_VIOLENCE], ids=["da", "syv"])
def test_an_inspection_with_easter_in_its_weeks_runs_through_the_pages_to_the_statement_of_action(
    case: Case, tab: Browsing, second_tab: Browsing, live_portal: LivePortal
) -> None:
    container = live_portal.portal.container
    clock = settable_clock(container)
    clock.set(_at(NOTIFIED, 9))
    staff, agency = tab, second_tab

    # Monday 22 March: the administrator creates it and registers the lead.
    # The deployment's administrator (tokens last 90 days: this one is issued that day).
    _p, admin_token = issue_token(container, Role.admin, label="administrator")
    staff.sign_in(admin_token)
    inspection_id = _create(staff, case)
    lead_token = _issue_token(staff, inspection_id, "Lead inspector", None)
    inspection = container.repository.get_inspection(inspection_id)
    assert inspection is not None
    theme = container.themes[inspection.theme_key]

    staff.sign_in(lead_token)
    _task(staff, "Timeline")
    _check_timeline(staff, inspection_id, case)
    tokens = {
        code: _issue_token(staff, inspection_id, "Agency uploader", code)
        for code in inspection.agencies
    }
    inspector_token = _issue_token(staff, inspection_id, "Inspector", None)

    # Tuesday 23 March, morning: the local authority is reminded of Tuesday's lists.
    clock.set(_at(date(2027, 3, 23), 9))
    first_list = theme.child_lists[0]
    reminded = _reminded(live_portal, inspection_id, clock.now())
    assert first_list.title in reminded[first_list.agency], reminded
    for code, token in tokens.items():
        if any(c.agency == code for c in theme.child_lists):
            agency.sign_in(token)
            _send_lists(agency, inspection_id, theme, code)
            _wait_accepted(agency, inspection_id, ("list:",))

    # Wednesday 24 March: the lead shortlists 20 children from the accepted lists.
    clock.set(_at(date(2027, 3, 24), 10))
    _task(staff, "Children")
    staff.page.locator("#shortlist").fill("\n".join(SHORTLIST))
    staff.page.get_by_role("button", name="Save shortlist").click()
    expect(staff.page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Shortlist saved: 20 children"
    )

    # Thursday 25 March, morning: every agency that owes answers about the 20 is reminded;
    # each answers for each child from its checklist.
    clock.set(_at(date(2027, 3, 25), 9))
    reminders = _reminded(live_portal, inspection_id, clock.now())
    per_child = next(r for r in theme.requests if r.per_child == "shortlisted")
    for code in per_child.agencies:
        if code in tokens:
            assert per_child.title in reminders.get(code, ""), (code, reminders.get(code))
    for token in tokens.values():
        agency.sign_in(token)
        _fulfil(agency, inspection_id, ("request:",))
        _wait_accepted(agency, inspection_id, ("request:",))

    # Tuesday 30 March, 11am (Good Friday and Easter Monday past): the children to audit.
    clock.set(_at(date(2027, 3, 30), 10))
    _task(staff, "Children")
    for child in SHORTLIST[: case.audited]:
        staff.page.get_by_role("checkbox", name=child, exact=True).check()
    staff.page.get_by_role("button", name="Save children to audit").click()
    expect(staff.page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"Children to audit saved: {case.audited} children"
    )
    # One child's health records are to be seen on site, not sent: the lead marks them,
    # unless the theme already asks for every child's health records so (004 para 131).
    health_cell = staff.page.locator(f'tr[data-child="{SHORTLIST[0]}"] [data-seen-on-site=health]')
    if not case.health_seen_on_site:
        health_cell.get_by_role("button", name=re.compile("^See on site instead")).click()
    expect(health_cell).to_contain_text("To be seen on site: not yet arranged")
    staff.check("children-chosen")
    # The lead asks the police for one more document, due on Thursday of week 2.
    _task(staff, "Ask an agency for more")
    staff.page.locator("#agency").select_option("police")
    staff.page.locator("#title").fill("Minutes of the last 3 MARAC meetings")
    _fill_date(staff, "due", date(2027, 4, 1))
    staff.page.get_by_role("button", name="Ask the agency").click()
    expect(staff.page.locator("#extra-items")).to_contain_text("MARAC")

    # Wednesday 31 March and Thursday 1 April: case records (or where and when they are
    # seen), audits, practitioners, the rest.
    clock.set(_at(date(2027, 3, 31), 9))
    later = ("request:", "case_record:", "audit", "agency_audit:", "extra:")
    reminders = _reminded(live_portal, inspection_id, clock.now())
    for code, token in tokens.items():
        agency.sign_in(token)
        # This morning's reminder names every required item still open on its checklist.
        for href in _open_items(agency, inspection_id, later, required_only=True):
            key = href.split("/items/")[1].rsplit("/", 1)[0]
            assert f"- {key} " in reminders.get(code, ""), (code, key)
        for href in _open_items(agency, inspection_id, ("case_record:",)):
            if href.endswith("/arrangement"):
                agency.goto(href)
                agency.page.locator("#where").fill("Room 4, Civic Centre")
                agency.page.get_by_label("Tuesday 6 April 2027").check()
                agency.page.get_by_role("button", name="Confirm the arrangement").click()
                expect(agency.page).to_have_url(re.compile(r"/checklist$"))
        _fulfil(agency, inspection_id, later)
        _wait_accepted(agency, inspection_id, later)
    agency.check("checklist-fulfilled")

    # Tuesday 6 April, fieldwork: the inspector records the health records seen on site
    # and raises an issue of concern with the police.
    clock.set(_at(date(2027, 4, 6), 14))
    agency.sign_in(inspector_token)
    agency.page.get_by_role("navigation", name="Menu").get_by_role("link", name="Children").click()
    seen = agency.page.locator(f'tr[data-child="{SHORTLIST[0]}"] [data-seen-on-site=health]')
    expect(seen).to_contain_text("arranged (Room 4, Civic Centre, Tuesday 6 April 2027)")
    seen.get_by_role("button", name=re.compile("^Record as seen")).click()
    expect(seen).to_contain_text("; seen on ")
    ref = _raise_concern(agency)

    # Wednesday 7 April: the police respond in writing and sign for their chief officer
    # once the inspectors' evaluation is shared; the lead signs it off.
    clock.set(_at(date(2027, 4, 7), 10))
    reminded = _reminded(live_portal, inspection_id, clock.now())
    assert f"Issue of concern {ref}" in reminded.get("police", ""), reminded.get("police")
    _concern_answered_and_signed(staff, agency, lead_token, tokens["police"], ref)

    # The lead's completeness: every request counted, for every agency.
    extras = container.repository.extra_items(inspection_id)
    for code in tokens:
        for deadline in {*case.timeline, *(e.deadline_key for e in extras)}:
            staff.goto(f"/inspections/{inspection_id}/completeness/{code}/{deadline}")
            for row in staff.page.locator("#items tbody tr").all():
                label = row.locator("td").first.inner_text()
                if re.match(r"^\d+\.\d+ ", label) or "(optional)" in label:
                    continue
                tag = row.locator(".govuk-tag").inner_text().strip()
                assert tag in ("Accepted", "Arranged"), (code, deadline, label, tag)
    staff.check("completeness-fulfilled")

    # After fieldwork: the letter's days, the comments and the statement of action.
    clock.set(_at(date(2027, 6, 3), 16))
    staff.sign_in(lead_token)
    _task(staff, "The letter’s days")
    _fill_date(staff, "draft", date(2027, 4, 30))
    _fill_date(staff, "final", date(2027, 6, 3))
    staff.page.get_by_role("button", name="Save the letter’s days").click()
    for key, words in LETTER.items():
        due = staff.page.locator(f"#letter-deadline-{key} [data-due]")
        expect(due).to_have_text(f"By {words}")
    staff.check("after-fieldwork")

    # The statement of action is chased in its window (2 working days before, from
    # policies/chasing.yaml): not on Tuesday 7 September, on Wednesday 8 September.
    def statement_reminders(day: date) -> list[str]:
        return [
            m.body
            for m in plan_all(container, _at(day, 9))
            if m.inspection_id == inspection_id and m.deadline == "statement_of_action"
        ]

    assert statement_reminders(date(2027, 9, 7)) == []
    reminders_due = statement_reminders(date(2027, 9, 8))
    assert reminders_due and all("statement of action" in body for body in reminders_due)


def _raise_concern(inspector: Browsing) -> str:
    """An inspector raises an issue of concern with the police; returns its reference."""
    inspector.page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Issues of concern"
    ).click()
    inspector.page.get_by_role("button", name="Raise an issue of concern").click()
    inspector.page.locator("#agency").select_option("police")
    inspector.page.locator("#case-numbers").fill(SHORTLIST[1])
    inspector.page.get_by_label(re.compile(r"^Category 1: Serious issue of concern")).check()
    inspector.page.locator("#service").fill("Public protection")
    inspector.page.locator("#issues").fill("No strategy discussion after the disclosure.")
    _fill_date(inspector, "required", date(2027, 4, 8))
    inspector.page.get_by_role("button", name="Raise the concern").click()
    expect(inspector.page.locator("#concern-status")).to_contain_text("Awaiting response")
    heading = inspector.page.get_by_role("heading", level=1).inner_text()
    return heading.removeprefix("Issue of concern ").strip()


def _concern_answered_and_signed(
    staff: Browsing, agency: Browsing, lead_token: str, police_token: str, ref: str
) -> None:
    agency.sign_in(police_token)
    agency.page.get_by_role("link", name=f"Issue of concern {ref}: written response").click()
    agency.page.get_by_role("button", name="Upload your written response").click()
    agency.page.locator("input[type=file]").set_input_files(
        {"name": "response.pdf", "mimeType": "application/pdf", "buffer": samples.pdf_text_pages(1)}
    )
    agency.page.get_by_role("button", name="Upload file").click()
    assert agency.wait_for_final_status() == "Accepted"

    staff.sign_in(lead_token)
    staff.page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Issues of concern"
    ).click()
    staff.page.get_by_role("link", name=f"Issue of concern {ref}").click()
    staff.page.locator("#evaluation").fill("The response sets out the discussion held.")
    staff.page.get_by_role("button", name="Share the evaluation").click()
    expect(staff.page.locator("#concern-status")).to_contain_text("Evaluation shared")

    agency.goto("/")
    agency.page.get_by_role("link", name=f"Issue of concern {ref}: written response").click()
    agency.page.locator("#chief-officer").fill("Chief Constable A. Officer")
    agency.page.get_by_role("button", name="Sign off for your chief officer").click()
    expect(agency.page.locator("#signatures")).to_contain_text("Chief Constable A. Officer")

    staff.page.reload()
    staff.page.get_by_role("button", name="Sign off as lead inspector").click()
    expect(staff.page.locator("#concern-status")).to_contain_text("Completed")
    staff.check("concern-completed")
