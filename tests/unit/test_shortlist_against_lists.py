"""The shortlist is chosen from the accepted lists, and a list says which mix it misses.

The guidance: "By 5pm on Wednesday, the lead inspector will select 20 children from the
lists provided" (/work/shared/seeds/001_0b4502cca47843a8.txt, para 115), and "If possible,
the local agencies should ensure each list of 10 children includes at least 2 children
from each of these age groups: unborn children; children aged under 2 years old; children
aged 2 to 4 years old; children aged 5 to 7 years old" (para 114).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from portal.adapters.policy_files import load_themes
from portal.domain.checklist import ChildList
from portal.domain.child_lists import ListTable, check_child_list, listed_children
from portal.domain.documents import Document, DocumentStatus, Outcome
from portal.domain.reasons import WarningCode
from portal.domain.selection import (
    ListEntry,
    SelectionProblem,
    Stage,
    decide_selection,
    mix_notes,
)
from portal.web.views import document_view

THEMES = load_themes(Path(__file__).resolve().parents[2] / "policies" / "themes")
DA = THEMES["domestic-abuse/sept-2024"]
LIST_OF_TEN = "list:at_least_two_agencies_involved"
HEADER = ("Child ID", "Age group", "Agencies involved", "CIN, CP or CiC")


def _definition(item: str) -> ChildList:
    return next(c for c in DA.child_lists if f"list:{c.key}" == item)


def _entries(*keys: str, document: str = "doc1", item: str = LIST_OF_TEN) -> list[ListEntry]:
    return [
        ListEntry(document_id=document, item_number=item, child_key=key, row=n + 2)
        for n, key in enumerate(keys)
    ]


def _table(*rows: tuple[str, ...], header: tuple[str, ...] = HEADER) -> ListTable:
    return ListTable(header=header, rows=rows)


def _ages(*groups: str) -> ListTable:
    return _table(*((f"DA-{n:03d}", g, "police", "CP") for n, g in enumerate(groups, start=1)))


def test_a_shortlisted_child_on_no_accepted_list_is_refused_naming_each_such_child() -> None:
    refused = decide_selection(
        DA,
        Stage.shortlist,
        ["DA-001", "DA-404", "DA-002", "DA-405"],
        (),
        listed=_entries("da-001", "da-002"),
    )
    assert refused is not None
    assert refused.problem is SelectionProblem.child_not_on_accepted_list
    assert "DA-404, DA-405" in refused.detail and "DA-001" not in refused.detail
    assert "check each ID against those lists" in refused.detail


def test_no_accepted_list_yet_refuses_every_shortlisted_child() -> None:
    refused = decide_selection(DA, Stage.shortlist, ["DA-001"], (), listed=[])
    assert refused is not None
    assert refused.problem is SelectionProblem.child_not_on_accepted_list


def test_a_shortlist_from_accepted_lists_is_allowed_whatever_the_case_of_its_ids() -> None:
    listed = _entries("da-001") + _entries("9434765919", document="doc2")
    assert (
        decide_selection(DA, Stage.shortlist, ["DA-001", "9434765919"], (), listed=listed) is None
    )


def test_the_audit_stage_is_checked_against_the_shortlist_not_against_the_lists() -> None:
    shortlist = tuple(f"DA-{n:03d}" for n in range(1, 21))
    assert decide_selection(DA, Stage.audit, list(shortlist[:6]), shortlist, listed=[]) is None


def test_a_theme_that_asks_for_no_lists_does_not_check_the_shortlist_against_lists() -> None:
    no_lists = DA.model_copy(update={"child_lists": ()})
    assert decide_selection(no_lists, Stage.shortlist, ["DA-001"], (), listed=[]) is None


def test_the_lists_of_ten_carry_para_114_as_their_mix_rule() -> None:
    mix = _definition(LIST_OF_TEN).mix
    assert mix is not None and mix.source == "para 114" and mix.at_least == 2
    assert mix.quote.startswith("If possible, the local agencies should ensure each list")
    assert [g.name for g in mix.groups] == [
        "unborn children",
        "children aged under 2 years old",
        "children aged 2 to 4 years old",
        "children aged 5 to 7 years old",
    ]
    assert _definition("list:ilacs_list_4_assessments").mix is None


def test_a_list_short_of_an_age_group_is_accepted_with_a_warning_naming_the_short_groups() -> None:
    checked = check_child_list(
        _ages("Unborn", "unborn", "Under 2", "2 to 4", "2-4", "5 to 7", "5-7", "12"),
        _definition(LIST_OF_TEN),
    )
    assert checked.verdict.outcome is Outcome.proceed
    assert WarningCode.mix_not_met in checked.verdict.warnings
    assert "para 114 asks, if possible, for at least 2 children" in checked.verdict.detail
    assert "children aged under 2 years old: 1" in checked.verdict.detail
    assert "unborn" not in checked.verdict.detail


def test_a_list_with_two_children_of_each_age_group_has_no_mix_warning() -> None:
    checked = check_child_list(
        _ages("Unborn", "Pre-birth", "Under 2", "under 2s", "2 to 4", "2-4", "5 to 7", "5-7"),
        _definition(LIST_OF_TEN),
    )
    assert checked.verdict.outcome is Outcome.proceed and checked.verdict.warnings == ()


def test_a_list_without_an_age_group_column_is_accepted_saying_the_mix_was_not_checked() -> None:
    header = ("Child ID", "Agencies involved")
    checked = check_child_list(
        _table(("DA-001", "police"), header=header), _definition(LIST_OF_TEN)
    )
    assert checked.verdict.outcome is Outcome.proceed
    assert checked.verdict.warnings == (WarningCode.mix_not_met,)
    assert "gives no 'Age group'" in checked.verdict.detail


def test_a_list_takes_only_its_ids_and_age_groups_never_another_cell() -> None:
    table = _table(
        ("DA 001", "Under 2", "Jane Example's GP", "CP"),
        ("", "", "", ""),
        ("da-002", "not known", "police", "CIN"),
    )
    found = listed_children(table, _definition(LIST_OF_TEN))
    assert [(c.child_key, c.row, c.group) for c in found] == [
        ("da001", 2, "children aged under 2 years old"),
        ("da-002", 4, None),
    ]


def test_a_row_naming_its_child_by_two_ids_gives_both_ids_and_counts_once_in_the_mix() -> None:
    table = _table(
        ("DA-001", "943 476 5919", "Unborn"), header=("Child ID", "NHS number", "Age group")
    )
    found = listed_children(table, _definition(LIST_OF_TEN))
    assert [c.child_key for c in found] == ["da-001", "9434765919"]
    entries = [
        ListEntry(
            document_id="doc1",
            item_number=LIST_OF_TEN,
            child_key=c.child_key,
            row=c.row,
            group=c.group,
        )
        for c in found
    ]
    (note,) = mix_notes(DA, entries)
    assert "unborn children: 1" in note.shortfall


def test_the_selection_names_each_accepted_list_that_misses_its_mix() -> None:
    short = [
        ListEntry(document_id="doc1", item_number=LIST_OF_TEN, child_key=f"a{n}", row=n, group=g)
        for n, g in enumerate(["unborn children"] * 2 + ["children aged 2 to 4 years old"] * 2)
    ]
    ilacs = _entries("b1", document="doc2", item="list:ilacs_list_4_assessments")
    (note,) = mix_notes(DA, short + ilacs)
    assert note.document_id == "doc1"
    assert note.list_title == _definition(LIST_OF_TEN).title
    assert note.shortfall == (
        "para 114 asks, if possible, for at least 2 children from each group; this list has "
        "children aged under 2 years old: 0; children aged 5 to 7 years old: 0"
    )


def test_the_uploader_s_page_says_which_age_groups_a_list_is_short_of() -> None:
    at = datetime(2026, 11, 30, 9, tzinfo=UTC)
    shortfall = "para 114 asks, if possible, for at least 2 children from each group; ..."
    document = Document(
        id="d1",
        inspection_id="i1",
        agency="local_authority",
        item_number=LIST_OF_TEN,
        original_filename="ten.csv",
        status=DocumentStatus.accepted,
        warnings=(WarningCode.mix_not_met,),
        detail=shortfall,
        received_at=at,
        updated_at=at,
    )
    (said,) = document_view(document).warnings
    assert said.endswith(f"What we found: {shortfall}.")
