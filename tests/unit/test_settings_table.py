"""README's configuration table is the one the Settings model renders."""

from __future__ import annotations

import pytest

from portal.settings import Settings
from portal.settings_table import END, README, REGENERATE, START, settings_table, with_table


def test_readme_lists_every_setting_as_the_model_renders_it() -> None:
    readme = README.read_text(encoding="utf-8")

    assert with_table(readme, settings_table()) == readme, (
        f"README.md's configuration table differs from the Settings model: run {REGENERATE}"
    )


def test_every_setting_is_a_row_with_a_meaning() -> None:
    rows = settings_table().splitlines()[2:]

    assert len(rows) == len(Settings.model_fields)
    for row, name in zip(rows, Settings.model_fields, strict=True):
        variable, default, meaning = (cell.strip() for cell in row.strip("|").split(" | "))
        assert variable == f"`JTAI_{name.upper()}`"
        assert default
        assert meaning, f"JTAI_{name.upper()} has no description in portal/settings.py"


def test_the_ports_are_listed_with_their_defaults() -> None:
    table = settings_table()

    assert "| `JTAI_API_PORT` | `8000` |" in table
    assert "| `JTAI_PREFECT_PORT` | `4200` |" in table


def test_a_readme_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="settings"):
        with_table("# no table here\n", settings_table())


def test_only_the_text_between_the_markers_is_replaced() -> None:
    readme = f"before\n{START}\nold table\n{END}\nafter\n"

    assert with_table(readme, "| new |\n") == f"before\n{START}\n\n| new |\n\n{END}\nafter\n"
