"""policies/README.md maps every request paragraph of each guidance to the keys of the
theme file that fulfil it; every key it names must exist in that theme file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from portal.domain.checklist import ThemePolicy

POLICIES = Path(__file__).resolve().parents[2] / "policies"
SECTION = re.compile(r"^### .*\(`(themes/[a-z0-9-]+\.yaml)`")
RANGE = re.compile(r"^([0-9]+)\.([0-9]+)-\1\.([0-9]+)$")


def _rows() -> list[tuple[str, str, str]]:
    """(theme file, paragraph, key) for every key of every mapped row."""
    rows, theme_file = [], None
    for line in (POLICIES / "README.md").read_text(encoding="utf-8").splitlines():
        found = SECTION.match(line)
        if found:
            theme_file = found.group(1)
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if theme_file is None or len(cells) != 3 or cells[0] in ("paragraph", "---"):
            continue
        keys = re.findall(r"`([^`]+)`", cells[2])
        assert keys or cells[2].startswith("none yet"), f"{theme_file}, {cells[0]}: no key"
        rows += [(theme_file, cells[0], key) for key in keys]
    return rows


def _theme(path: str) -> ThemePolicy:
    with (POLICIES / path).open(encoding="utf-8") as handle:
        return ThemePolicy.model_validate(yaml.safe_load(handle))


def fulfils(theme: ThemePolicy, key: str) -> bool:
    """Whether `theme` has the item, list, request or step that `key` names."""
    kind, _, name = key.partition(":")
    numbers = {i.number for a in theme.agencies for i in a.items}
    ranged = RANGE.fullmatch(key)
    if ranged:
        major, first, last = ranged.groups()
        return all(f"{major}.{n}" in numbers for n in range(int(first), int(last) + 1))
    checks = {
        "list": lambda: any(c.key == name for c in theme.child_lists),
        "request": lambda: theme.request(name) is not None,
        "selection": lambda: theme.selection is not None and name in ("shortlist", "audit"),
        "case_records": lambda: any(r.agency == name for r in theme.case_records),
        "audit": lambda: theme.audits is not None and not name,
        "agency_audit": lambda: theme.single_agency_audits(name) is not None,
        "after_fieldwork": lambda: (
            theme.after_fieldwork is not None
            and name in {d.value for d in theme.after_fieldwork.rules()}
        ),
        "deadline": lambda: theme.timeline is not None and name in theme.timeline.deadlines,
        "additional_requests": lambda: not name and bool(theme.additional_requests),
        "issues_of_concern": lambda: theme.issues_of_concern is not None and not name,
    }
    return kind in checks and checks[kind]()


ROWS = _rows()


def test_the_map_covers_every_theme_file() -> None:
    mapped = {path for path, _, _ in ROWS}
    assert mapped == {f"themes/{p.name}" for p in (POLICIES / "themes").glob("*.yaml")}


@pytest.mark.parametrize(("theme_file", "paragraph", "key"), ROWS)
def test_each_mapped_request_has_its_item_in_the_theme_file(
    theme_file: str, paragraph: str, key: str
) -> None:
    assert fulfils(_theme(theme_file), key), f"{theme_file} has no {key} for {paragraph}"


def _paragraph_numbers(text: str) -> set[str]:
    return set(re.findall(r"\bparas? ([0-9]+)", text))


@pytest.mark.parametrize(
    ("theme_file", "paragraph"),
    sorted({(path, par) for path, par, key in ROWS if key == "additional_requests"}),
)
def test_each_additional_requests_row_names_a_paragraph_the_theme_quotes(
    theme_file: str, paragraph: str
) -> None:
    cited = {
        n for q in _theme(theme_file).additional_requests for n in _paragraph_numbers(q.source)
    }
    assert _paragraph_numbers(paragraph), f"{theme_file}: {paragraph!r} names no paragraph"
    assert _paragraph_numbers(paragraph) <= cited, f"{theme_file} quotes no {paragraph}"


def test_the_check_fails_for_a_key_a_theme_does_not_have() -> None:
    theme = _theme("themes/domestic-abuse-2024.yaml")
    assert not fulfils(theme, "request:no_such_request")
    assert not fulfils(theme, "1.1-1.99")
    assert not fulfils(theme, "agency_audit:nobody")
    assert not fulfils(theme.model_copy(update={"additional_requests": ()}), "additional_requests")
    assert not fulfils(theme.model_copy(update={"issues_of_concern": None}), "issues_of_concern")
