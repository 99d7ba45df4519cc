"""check_child_list: lists use unique IDs, carry the theme's columns and run no formulas.

The rule on names is the guidance's: "Unique identification numbers, rather than full
names, should be used on the lists provided" (/work/shared/seeds/002_fdb87cb2edf2eb07.txt,
para 19).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.adapters.policy_files import load_themes
from portal.domain.checklist import ChildList, ListField
from portal.domain.child_lists import (
    ListTable,
    check_child_list,
    is_formula_like,
    is_name_heading,
    looks_like_personal_name,
    neutralise_cell,
)
from portal.domain.documents import Outcome
from portal.domain.reasons import ReasonCode, WarningCode

ABUSE = "Has the child been a victim of domestic abuse? (Y/N)"
LIST = ChildList(
    key="ilacs_list_6_children_in_need",
    title="All those in receipt of services as a child in need",
    agency="local_authority",
    deadline="week1_tuesday_5pm",
    extra_fields=(ListField(name=ABUSE, allowed_values=("Y", "N")),),
)
FREE_TEXT_LIST = ChildList(
    key="at_least_two_agencies_involved",
    title="up to 10 children",
    agency="local_authority",
    deadline="week1_tuesday_5pm",
    max_children=3,
    extra_fields=(
        ListField(name="the child’s unique ID"),
        ListField(name="the agencies involved with the child and their family"),
    ),
)
THEMES = Path(__file__).resolve().parents[2] / "policies" / "themes"


def table(header: tuple[str, ...], *rows: tuple[str, ...]) -> ListTable:
    return ListTable(header=header, rows=rows)


def clean_list() -> ListTable:
    return table(
        ("Child ID", ABUSE, "Date of birth"),
        ("LA100234", "Y", "2012-03-04"),
        ("LA100235", "N", "2010-11-30"),
    )


def rejected(check_table: ListTable, definition: ChildList = LIST) -> tuple[ReasonCode, str]:
    verdict = check_child_list(check_table, definition).verdict
    assert verdict.outcome is Outcome.reject, verdict
    assert verdict.reason is not None
    return verdict.reason, verdict.detail


def test_proceeds_with_a_clean_list_and_keeps_it_unchanged() -> None:
    check = check_child_list(clean_list(), LIST)

    assert check.verdict.outcome is Outcome.proceed
    assert check.verdict.warnings == ()
    assert check.neutralised == clean_list()
    assert check.neutralised_cells == 0


def test_rejects_a_list_without_an_id_column_and_says_which_heading_to_use() -> None:
    reason, detail = rejected(table(("Reference code", ABUSE), ("X1", "Y")))

    assert reason is ReasonCode.missing_child_id_column
    assert "'Child ID'" in detail


@pytest.mark.parametrize(
    "heading",
    [
        "Child ID",
        "child id",
        "CHILD ID",
        " Unique ID ",
        "Child's unique ID",
        "Child’s Unique ID",
        "the child’s unique ID",
        "UPN",
        "ID",
        "LCS ID",
        "Person ID",
        "ChildID",
        "child_id",
        "NHS number",
    ],
)
def test_accepts_common_id_headings_whatever_their_case_or_spacing(heading: str) -> None:
    check = check_child_list(table((heading, ABUSE), ("A123", "N")), LIST)

    assert check.verdict.outcome is Outcome.proceed, check.verdict


def test_rejects_a_list_missing_a_column_the_theme_asks_for_and_names_it() -> None:
    reason, detail = rejected(table(("Child ID", "Date of birth"), ("A1", "2012-03-04")))

    assert reason is ReasonCode.missing_required_columns
    assert detail == f"no column '{ABUSE}'"


@pytest.mark.parametrize(
    "heading",
    [
        "has the child been a victim of domestic abuse? (y/n)",
        "  Has the child been a victim of domestic abuse?  (Y/N) ",
        "Has the child been a victim of domestic abuse?",
        "Has the child been a victim of domestic abuse",
    ],
)
def test_matches_a_theme_column_ignoring_case_spacing_and_the_y_n_hint(heading: str) -> None:
    check = check_child_list(table(("Child ID", heading), ("A1", "Y")), LIST)

    assert check.verdict.outcome is Outcome.proceed, check.verdict


def test_matches_a_theme_column_whatever_kind_of_apostrophe_it_uses() -> None:
    header = ("Child ID", "The agencies involved with the child and their family")

    check = check_child_list(table(header, ("A1", "YOT, CAMHS")), FREE_TEXT_LIST)

    assert check.verdict.outcome is Outcome.proceed, check.verdict


def test_an_id_column_meets_a_theme_field_that_asks_for_the_unique_id() -> None:
    header = ("UPN", "the agencies involved with the child and their family")

    check = check_child_list(table(header, ("A1", "Police")), FREE_TEXT_LIST)

    assert check.verdict.outcome is Outcome.proceed, check.verdict


def test_rejects_an_answer_that_is_not_y_or_n_naming_the_row_and_column() -> None:
    reason, detail = rejected(table(("Child ID", ABUSE), ("A1", "Y"), ("A2", "N"), ("A3", "maybe")))

    assert reason is ReasonCode.invalid_list_values
    assert detail == f"row 4 of '{ABUSE}': 'maybe' is not Y or N"


def test_rejects_a_blank_answer_in_a_y_n_column() -> None:
    reason, detail = rejected(table(("Child ID", ABUSE), ("A1", "  ")))

    assert reason is ReasonCode.invalid_list_values
    assert detail == f"row 2 of '{ABUSE}' is blank: it must be Y or N"


def test_accepts_y_and_n_in_lower_case_and_with_spaces_around() -> None:
    check = check_child_list(table(("Child ID", ABUSE), ("A1", " y "), ("A2", "n")), LIST)

    assert check.verdict.outcome is Outcome.proceed


def test_leaves_free_text_columns_unchecked_even_when_blank() -> None:
    header = ("Child ID", "the agencies involved with the child and their family")

    check = check_child_list(table(header, ("A1", "")), FREE_TEXT_LIST)

    assert check.verdict.outcome is Outcome.proceed


def test_does_not_quote_back_a_wrong_answer_that_could_be_a_name() -> None:
    reason, detail = rejected(table(("Child ID", ABUSE), ("A1", "Jane")))

    assert reason is ReasonCode.invalid_list_values
    assert "Jane" not in detail
    assert detail == f"row 2 of '{ABUSE}' is not Y or N"


@pytest.mark.parametrize(
    "heading",
    [
        "Surname",
        "Forename",
        "First name",
        "Last Name",
        "Given name",
        "Family name",
        "Full name",
        "Name",
        "Child's name",
        "Child’s Name",
        "Child name",
        "Mother's name",
        "Parent/carer name",
        "first_name",
        "FirstName",
        "Known as",
        "Social worker name",
        "Name of child",
    ],
)
def test_rejects_a_column_whose_heading_asks_for_a_name(heading: str) -> None:
    header = ("Child ID", ABUSE, heading)

    reason, detail = rejected(table(header, ("A1", "Y", "")))

    assert reason is ReasonCode.names_in_child_list
    assert "unique ID" in detail


def test_names_the_name_column_in_the_detail() -> None:
    _reason, detail = rejected(table(("Child ID", ABUSE, "Surname"), ("A1", "Y", "Smith")))

    assert detail == "column 'Surname' holds names: use each child's unique ID instead"
    assert "Smith" not in detail


@pytest.mark.parametrize(
    "heading",
    [
        "School name",
        "Team name",
        "Social worker team",
        "Name of school",
        "Name of child's school",
        "GP practice name",
        "Placement provider name",
        "Username",
    ],
)
def test_allows_headings_that_name_a_thing_rather_than_a_person(heading: str) -> None:
    assert not is_name_heading(heading)
    check = check_child_list(table(("Child ID", ABUSE, heading), ("A1", "Y", "x")), LIST)

    assert check.verdict.outcome is Outcome.proceed, check.verdict


def test_rejects_names_in_the_id_column_without_quoting_them() -> None:
    reason, detail = rejected(
        table(("Child ID", ABUSE), ("A1", "Y"), ("A2", "N"), ("Jane Smith", "Y"))
    )

    assert reason is ReasonCode.names_in_child_list
    assert detail == "row 4 of 'Child ID' looks like a person's name, not an ID"
    assert "Jane" not in detail


def test_rejects_names_under_a_heading_for_the_child_or_family() -> None:
    header = ("Child ID", ABUSE, "Mother")

    reason, detail = rejected(table(header, ("A1", "Y", "SMITH, Jane")))

    assert reason is ReasonCode.names_in_child_list
    assert "SMITH" not in detail


@pytest.mark.parametrize("cell", ["Jane Smith", "SMITH, Jane", "Mary-Ann O'Neil", "Zoë Núñez"])
def test_reads_capitalised_words_as_a_personal_name(cell: str) -> None:
    assert looks_like_personal_name(cell)


@pytest.mark.parametrize("cell", ["AB12345", "J S", "LA 100234", "Not known", "y", ""])
def test_does_not_take_codes_initials_or_answers_for_names(cell: str) -> None:
    assert not looks_like_personal_name(cell)


def test_does_not_search_other_columns_for_names() -> None:
    header = ("Child ID", ABUSE, "Agencies involved")

    check = check_child_list(table(header, ("A1", "Y", "Youth Offending Team")), LIST)

    assert check.verdict.outcome is Outcome.proceed


def test_rejects_rows_without_a_child_id() -> None:
    reason, detail = rejected(table(("Child ID", ABUSE), ("A1", "Y"), ("", "N")))

    assert reason is ReasonCode.missing_child_ids
    assert detail == "row 3 has no child ID"


def test_rejects_more_children_than_the_list_asks_for() -> None:
    header = ("Child ID", "the agencies involved with the child and their family")
    rows = [(f"A{n}", "Police") for n in range(4)]

    reason, detail = rejected(table(header, *rows), FREE_TEXT_LIST)

    assert reason is ReasonCode.too_many_children
    assert detail == "the list has 4 children; at most 3 are asked for"


def test_ignores_blank_rows_when_counting_and_checking_children() -> None:
    header = ("Child ID", "the agencies involved with the child and their family")
    rows = [("A1", "Police"), ("", ""), ("A2", "YOT"), (" ", ""), ("A3", "CAMHS")]

    check = check_child_list(table(header, *rows), FREE_TEXT_LIST)

    assert check.verdict.outcome is Outcome.proceed


def test_names_rows_by_the_row_number_the_spreadsheet_shows() -> None:
    shifted = ListTable(header=("Child ID", ABUSE), rows=(("A1", "Y"), ("A2", "?")), header_row=3)

    _reason, detail = rejected(shifted)

    assert detail == f"row 5 of '{ABUSE}': '?' is not Y or N"


def test_reports_names_first_when_a_list_has_several_problems() -> None:
    reason, detail = rejected(table(("Surname", "Notes"), ("Smith", "")))

    assert reason is ReasonCode.names_in_child_list
    assert detail.startswith("column 'Surname' holds names")
    assert "no column for the child's unique ID" in detail
    assert f"no column '{ABUSE}'" in detail


def test_lists_only_the_first_problems_and_counts_the_rest() -> None:
    rows = [(f"A{n}", "maybe") for n in range(20)]

    _reason, detail = rejected(table(("Child ID", ABUSE), *rows))

    assert detail.count("is not Y or N") == 6
    assert detail.endswith("; and 14 more")


def test_neutralises_and_counts_formula_cells_and_warns_the_uploader() -> None:
    listed = table(
        ("Child ID", ABUSE, "Notes"),
        ("A1", "Y", '=HYPERLINK("http://x","click")'),
        ("A2", "N", "@SUM(1+1)"),
        ("A3", "Y", "+cmd|' /C calc'!A0"),
        ("A4", "N", "\t=1+1"),
    )

    check = check_child_list(listed, LIST)

    assert check.verdict.outcome is Outcome.proceed
    assert check.verdict.warnings == (WarningCode.formula_cells_neutralised,)
    assert check.neutralised_cells == 4
    notes = [row[2] for row in check.neutralised.rows]
    assert notes == [
        '\'=HYPERLINK("http://x","click")',
        "'@SUM(1+1)",
        "'+cmd|' /C calc'!A0",
        "'\t=1+1",
    ]
    assert [row[:2] for row in check.neutralised.rows] == [row[:2] for row in listed.rows]


def test_neutralises_a_formula_in_the_header_too() -> None:
    check = check_child_list(table(("Child ID", ABUSE, "=1+1"), ("A1", "Y", "")), LIST)

    assert check.neutralised.header == ("Child ID", ABUSE, "'=1+1")
    assert check.neutralised_cells == 1


@pytest.mark.parametrize(
    "cell", ["-5", "+3.5", "-0.25", "-1,234.50", "-1e5", " -7", "2024-01-05", "05/01/2024", ""]
)
def test_leaves_plain_numbers_and_dates_alone(cell: str) -> None:
    assert not is_formula_like(cell)
    assert neutralise_cell(cell) == cell


@pytest.mark.parametrize(
    "cell", ["=1+1", "-1+2", "-E5", "+44 20 7946 0000", "@A1", " =1", "\r=1", "-", "＝1"]
)
def test_treats_anything_else_starting_with_a_formula_sign_as_a_formula(cell: str) -> None:
    assert is_formula_like(cell)
    assert neutralise_cell(cell) == "'" + cell


def test_neutralising_a_neutralised_cell_changes_nothing() -> None:
    once = neutralise_cell("=1+1")

    assert neutralise_cell(once) == once


def test_no_shipped_theme_asks_for_a_column_that_would_be_rejected_as_names() -> None:
    themes = load_themes(THEMES)

    fields = [
        field.name
        for theme in themes.values()
        for lst in theme.child_lists
        for field in lst.extra_fields
    ]

    assert fields
    assert [name for name in fields if is_name_heading(name)] == []


def test_fields_that_describe_rows_rather_than_name_columns_are_not_required_as_headings() -> None:

    definition = ChildList(
        key="two_agencies",
        title="Children with at least two agencies involved",
        agency="local_authority",
        deadline="w1",
        extra_fields=(
            ListField(name="the agencies involved with the child and their family", heading=False),
        ),
    )
    table = ListTable(header=("Child ID", "Agencies"), rows=(("C1", "police; health"),))
    assert check_child_list(table, definition).verdict.outcome is Outcome.proceed
