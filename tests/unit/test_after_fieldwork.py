"""The after-fieldwork deadlines, computed from the letter's recorded days by the theme's
rule: working days skip weekends and bank holidays, and a deadline waits for its step.

Hand-counted: Christmas 2027 falls on a Saturday, so its bank holidays are Monday 27 and
Tuesday 28 December; Easter 2028 gives Good Friday 14 April and Easter Monday 17 April,
and the early May bank holiday is Monday 1 May 2028.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from portal.adapters.policy_files import load_themes
from portal.domain.after_fieldwork import (
    AfterFieldworkDeadline,
    AfterFieldworkPolicy,
    LetterStep,
    after_fieldwork_of,
    out_of_order,
)
from portal.domain.timeline import LONDON, WorkingCalendar

THEMES = load_themes(Path(__file__).resolve().parents[2] / "policies" / "themes")
SOURCES = Path(__file__).resolve().parents[2] / "policies" / "sources"
CHRISTMAS_2027 = {date(2027, 12, 27), date(2027, 12, 28)}
SPRING_2028 = {date(2028, 4, 14), date(2028, 4, 17), date(2028, 5, 1)}
CALENDAR = WorkingCalendar(bank_holidays=frozenset(CHRISTMAS_2027 | SPRING_2028))
FA = AfterFieldworkDeadline.factual_accuracy
SOA = AfterFieldworkDeadline.statement_of_action


def _policy(theme: str) -> AfterFieldworkPolicy:
    policy = THEMES[theme].after_fieldwork
    assert policy is not None
    return policy


def _due(theme: str, recorded: dict[LetterStep, date]) -> dict[str, datetime | None]:
    state = after_fieldwork_of(_policy(theme), recorded, CALENDAR)
    return {d.key.value: d.due for d in state.deadlines}


def test_comments_on_the_draft_are_due_9_working_days_after_it_is_shared_skipping_christmas() -> (
    None
):
    # Shared Wednesday 15 December 2027: Thu 16 (1), Fri 17 (2), Mon 20 to Fri 24 (3-7),
    # Mon 27 and Tue 28 are bank holidays, Wed 29 (8), Thu 30 (9).
    due = _due("domestic-abuse/sept-2024", {LetterStep.draft_letter_shared: date(2027, 12, 15)})

    assert due[FA] == datetime(2027, 12, 30, 23, 59, tzinfo=LONDON)
    assert due[SOA] is None


def test_the_statement_of_action_is_due_70_working_days_after_the_final_letter_past_easter() -> (
    None
):
    # Sent Monday 7 February 2028: 14 weeks of weekdays end Monday 15 May; Good Friday,
    # Easter Monday and 1 May push it three working days on, to Thursday 18 May (BST).
    due = _due(
        "serious-youth-violence/sept-2023",
        {
            LetterStep.draft_letter_shared: date(2028, 1, 10),
            LetterStep.final_letter_sent: date(2028, 2, 7),
        },
    )

    assert due[SOA] == datetime(2028, 5, 18, 23, 59, tzinfo=LONDON)
    assert due[SOA].utcoffset() is not None and due[SOA].isoformat().endswith("+01:00")


def test_the_2016_framework_counts_the_statement_of_action_from_publication() -> None:
    sent_only = _due("framework-2016/generic", {LetterStep.final_letter_sent: date(2028, 2, 7)})
    published = _due(
        "framework-2016/generic",
        {
            LetterStep.final_letter_sent: date(2028, 2, 1),
            LetterStep.letter_published: date(2028, 2, 7),
        },
    )

    assert sent_only[SOA] is None
    assert published[SOA] == datetime(2028, 5, 18, 23, 59, tzinfo=LONDON)


def test_a_deadline_waits_for_its_step_and_says_which() -> None:
    state = after_fieldwork_of(_policy("domestic-abuse/sept-2024"), {}, CALENDAR)

    waiting = {d.key.value: d.waiting_for for d in state.deadlines}
    assert waiting == {
        FA: "Waiting for the day of the draft letter shared for factual accuracy.",
        SOA: "Waiting for the day of the final letter sent.",
    }


def test_the_five_week_front_door_guidance_sets_no_factual_accuracy_days_so_none_is_invented() -> (
    None
):
    state = after_fieldwork_of(_policy("front-door/five-week-2022"), {}, CALENDAR)

    assert [d.key for d in state.deadlines] == [SOA]


def test_every_theme_quotes_the_guidance_exactly() -> None:
    guidance = "".join(p.read_text(encoding="utf-8") for p in SOURCES.glob("*.txt"))
    for key, theme in THEMES.items():
        policy = theme.after_fieldwork
        assert policy is not None, key
        for rule in policy.rules().values():
            assert rule.quote in guidance, (key, rule.quote)


def test_a_letter_sent_before_its_draft_was_shared_is_out_of_order() -> None:
    words = out_of_order(
        {
            LetterStep.draft_letter_shared: date(2028, 1, 10),
            LetterStep.letter_published: date(2028, 1, 7),
        }
    )

    assert words is not None and "before the day of the draft letter shared" in words
    assert out_of_order({LetterStep.final_letter_sent: date(2028, 1, 7)}) is None
