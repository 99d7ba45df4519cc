"""An inspection's days are kept as the lead enters them, the other derived by the theme's
rule; a bank holiday never puts a deadline on or before one it depends on, and the
schedule says which deadlines a bank holiday moved, and why.

Easter 2027: Good Friday is Friday 26 March, Easter Monday Monday 29 March. A serious
youth violence or domestic abuse inspection notified on Monday 22 March 2027 has its
week 1 from 22 March and fieldwork (week 3) from Monday 5 April.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from portal.domain.checklist import ThemePolicy, TimelinePolicy
from portal.domain.inspection_days import DaysRefused, fieldwork_after, settle_days
from portal.domain.schedule import order_broken_by, schedule_of
from portal.domain.timeline import LONDON, WorkingCalendar

THEMES_DIR = Path(__file__).resolve().parents[2] / "policies" / "themes"
EASTER_2027 = WorkingCalendar(bank_holidays=frozenset({date(2027, 3, 26), date(2027, 3, 29)}))


def _theme(filename: str) -> ThemePolicy:
    with (THEMES_DIR / filename).open(encoding="utf-8") as handle:
        return ThemePolicy.model_validate(yaml.safe_load(handle))


SYV = _theme("serious-youth-violence-2023.yaml")
DA = _theme("domestic-abuse-2024.yaml")


def _shape(theme: ThemePolicy):  # type: ignore[no-untyped-def]
    assert theme.timeline is not None
    return theme.timeline.shape


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


# The days ---------------------------------------------------------------------------


def test_a_notification_day_entered_alone_is_kept_and_fieldwork_follows_from_its_week() -> None:
    notified, fieldwork = settle_days(_shape(SYV), date(2027, 3, 22), None, EASTER_2027)

    assert notified == date(2027, 3, 22)
    assert fieldwork == date(2027, 4, 5)


def test_a_notification_on_the_rules_own_day_finds_the_fieldwork_it_belongs_to() -> None:
    # 10 working days before Monday 5 April 2027, past Easter, is Thursday 18 March.
    assert fieldwork_after(_shape(SYV), date(2027, 3, 18), EASTER_2027) == date(2027, 4, 5)


def test_a_fieldwork_start_entered_alone_gives_the_rules_notification_day() -> None:
    notified, fieldwork = settle_days(_shape(DA), None, date(2027, 4, 5), EASTER_2027)

    assert (notified, fieldwork) == (date(2027, 3, 18), date(2027, 4, 5))


def test_in_an_ordinary_fortnight_a_monday_notification_means_fieldwork_two_weeks_on() -> None:
    plain = WorkingCalendar()
    assert settle_days(_shape(DA), date(2027, 3, 1), None, plain) == (
        date(2027, 3, 1),
        date(2027, 3, 15),
    )


def test_both_days_entered_are_both_kept_even_off_the_rule() -> None:
    entered = (date(2027, 3, 22), date(2027, 4, 5))
    assert settle_days(_shape(DA), *entered, EASTER_2027) == entered


@pytest.mark.parametrize(
    ("notification", "fieldwork", "code"),
    [
        (date(2027, 3, 26), None, "not_a_working_day"),  # Good Friday
        (None, date(2027, 4, 3), "not_a_working_day"),  # a Saturday
        (date(2027, 4, 6), date(2027, 4, 5), "notification_after_fieldwork"),
    ],
)
def test_days_that_cannot_be_are_refused_with_a_code(
    notification: date | None, fieldwork: date | None, code: str
) -> None:
    with pytest.raises(DaysRefused) as refused:
        settle_days(_shape(DA), notification, fieldwork, EASTER_2027)
    assert refused.value.code == code


def test_a_notification_off_the_rule_is_kept_with_a_warning_quoting_the_guidance() -> None:
    schedule = schedule_of(SYV, date(2027, 4, 5), EASTER_2027, {}, date(2027, 3, 22))

    assert schedule is not None
    assert schedule.notification == date(2027, 3, 22)
    (warning,) = schedule.warnings
    assert warning.code == "notification_off_rule"
    assert "Monday 22 March 2027 is 8 working days before" in warning.text
    assert "which gives Thursday 18 March 2027" in warning.text
    assert "may take place earlier if there is a bank holiday in week 1 or 2" in warning.text
    assert "(para 42, Activities in week 1)" in warning.text


def test_a_notification_on_the_rules_day_brings_no_warning() -> None:
    schedule = schedule_of(SYV, date(2027, 4, 5), EASTER_2027, {}, date(2027, 3, 18))

    assert schedule is not None and schedule.warnings == ()


# The deadlines around Easter ----------------------------------------------------------

# Computed by hand from the guidance's words (004 paras 127-132; 001 paras 111-119), week 1
# from Monday 22 March 2027:
# - Tuesday, Wednesday, Thursday of week 1: 23, 24, 25 March, no bank holiday.
# - "By 11am on Friday in week 1": Friday 26 March is Good Friday and Monday 29 March
#   Easter Monday, so the next working day: Tuesday 30 March, 11am.
# - "by 5pm on Tuesday in week 2" (case records of the children chosen on that Friday) is
#   Tuesday 30 March, the same day as the choice: it moves to the next working day,
#   Wednesday 31 March, 5pm.
# - The audits, Thursday of week 2: Thursday 1 April, already after the choice.
SYV_EASTER = {
    "week1_tuesday_5pm": _at(date(2027, 3, 23), 17),
    "week1_wednesday_5pm": _at(date(2027, 3, 24), 17),
    "week1_thursday_5pm": _at(date(2027, 3, 25), 17),
    "week1_friday_11am": _at(date(2027, 3, 30), 11),
    "week2_tuesday_5pm": _at(date(2027, 3, 31), 17),
    "week2_thursday_5pm": _at(date(2027, 4, 1), 17),
}
DA_EASTER = {
    **{k: v for k, v in SYV_EASTER.items() if k != "week2_thursday_5pm"},
    "week2_end_of_thursday": _at(date(2027, 4, 1), 23, 59),
}


@pytest.mark.parametrize(("theme", "expected"), [(SYV, SYV_EASTER), (DA, DA_EASTER)])
def test_with_easter_in_weeks_1_and_2_the_timeline_is_the_hand_computed_one(
    theme: ThemePolicy, expected: dict[str, datetime]
) -> None:
    schedule = schedule_of(theme, date(2027, 4, 5), EASTER_2027, {}, date(2027, 3, 22))

    assert schedule is not None
    assert schedule.due_times() == expected


def test_no_deadline_falls_on_or_before_the_day_of_one_it_depends_on() -> None:
    schedule = schedule_of(DA, date(2027, 4, 5), EASTER_2027, {}, date(2027, 3, 22))

    assert schedule is not None
    due = schedule.due_times()
    for deadline in schedule.deadlines:
        for prerequisite in deadline.depends_on:
            assert deadline.due.date() > due[prerequisite].date(), deadline.key


def test_the_schedule_says_which_bank_holidays_moved_a_deadline_and_what_it_follows() -> None:
    schedule = schedule_of(SYV, date(2027, 4, 5), EASTER_2027, {}, date(2027, 3, 22))

    assert schedule is not None
    shifts = {d.key: d.shift for d in schedule.deadlines if d.shift is not None}
    assert set(shifts) == {"week1_friday_11am", "week2_tuesday_5pm"}
    chosen = shifts["week1_friday_11am"]
    assert chosen is not None
    assert chosen.rule_day == date(2027, 3, 26)
    assert chosen.bank_holidays == (date(2027, 3, 26), date(2027, 3, 29))
    records = shifts["week2_tuesday_5pm"]
    assert records is not None
    assert (records.rule_day, records.after) == (date(2027, 3, 30), "week1_friday_11am")


def test_without_bank_holidays_no_deadline_is_moved() -> None:
    schedule = schedule_of(SYV, date(2027, 3, 15), WorkingCalendar(), {})

    assert schedule is not None
    assert all(d.shift is None for d in schedule.deadlines)
    assert schedule.warnings == ()


def test_a_lead_move_that_puts_a_deadline_before_what_it_depends_on_is_named() -> None:
    moved = {"week2_tuesday_5pm": _at(date(2027, 3, 25), 17)}
    schedule = schedule_of(SYV, date(2027, 4, 5), EASTER_2027, moved, date(2027, 3, 22))

    assert schedule is not None
    broken = order_broken_by(schedule.deadlines, "week2_tuesday_5pm")
    assert broken is not None and "By 11am on Friday in week 1" in broken
    assert [w.code for w in schedule.warnings] == ["notification_off_rule", "deadline_order"]


def test_what_depends_on_a_deadline_the_lead_moves_later_follows_it() -> None:
    moved = {"week1_friday_11am": _at(date(2027, 4, 1), 11)}
    schedule = schedule_of(SYV, date(2027, 4, 5), EASTER_2027, moved, date(2027, 3, 22))

    assert schedule is not None
    due = schedule.due_times()
    assert due["week2_tuesday_5pm"] == _at(date(2027, 4, 2), 17)
    assert due["week2_thursday_5pm"] == _at(date(2027, 4, 2), 17)
    assert order_broken_by(schedule.deadlines, "week1_friday_11am") is None


def test_a_lead_move_of_a_prerequisite_past_a_moved_dependent_is_named() -> None:
    moved = {
        "week2_tuesday_5pm": _at(date(2027, 3, 31), 17),
        "week1_friday_11am": _at(date(2027, 4, 1), 11),
    }
    schedule = schedule_of(SYV, date(2027, 4, 5), EASTER_2027, moved, date(2027, 3, 22))

    assert schedule is not None
    broken = order_broken_by(schedule.deadlines, "week1_friday_11am")
    assert broken is not None and "Move that one first" in broken


# Theme data -------------------------------------------------------------------------

_RULES = {
    "choose": {"rule": {"kind": "in_week", "week": 1, "weekday": "friday"}, "quote": "choose"},
    "send": {"rule": {"kind": "in_week", "week": 2, "weekday": "tuesday"}, "quote": "send"},
}
_SHAPE = {"fieldwork_week": 3, "notification_working_days_before_fieldwork": 10}


def test_a_theme_whose_own_days_break_a_dependency_is_refused_at_load() -> None:
    rules = {**_RULES, "choose": {**_RULES["choose"], "depends_on": ["send"]}}
    with pytest.raises(ValidationError, match="depends on \\['send'\\]"):
        TimelinePolicy.model_validate({"shape": _SHAPE, "deadlines": rules})


def test_a_theme_whose_dependencies_go_round_in_a_circle_is_refused_at_load() -> None:
    rules = {
        "choose": {**_RULES["choose"], "depends_on": ["send"]},
        "send": {**_RULES["send"], "depends_on": ["choose"]},
    }
    with pytest.raises(ValidationError, match="circle"):
        TimelinePolicy.model_validate({"shape": _SHAPE, "deadlines": rules})


def test_a_theme_naming_an_unknown_prerequisite_is_refused_at_load() -> None:
    rules = {**_RULES, "send": {**_RULES["send"], "depends_on": ["nothing"]}}
    with pytest.raises(ValidationError, match="nothing"):
        TimelinePolicy.model_validate({"shape": _SHAPE, "deadlines": rules})
