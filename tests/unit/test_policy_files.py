"""A malformed policy file fails at start-up naming the file, the line and the field."""

from pathlib import Path

import pytest

from portal.adapters.policy_files import (
    PolicyFileError,
    load_chase_policy,
    load_file_type_policy,
    load_themes,
)

THEME = """\
theme: test-theme
variant: v1
title: Test
source: test
agencies:
  - code: police
    name: The police force
    items:
      - number: "3.1"
        title: Structure
      - number: three point two
        title: Audits
"""


def test_a_bad_field_is_reported_with_its_file_line_and_field(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(THEME)
    with pytest.raises(PolicyFileError) as caught:
        load_themes(tmp_path)
    message = str(caught.value)
    assert f"{tmp_path / 'bad.yaml'}:11: agencies.0.items.1.number" in message


def test_a_missing_field_points_at_the_mapping_that_lacks_it(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(THEME.replace("title: Test\n", ""))
    with pytest.raises(PolicyFileError, match=r"bad\.yaml:1: title: Field required"):
        load_themes(tmp_path)


def test_yaml_that_does_not_parse_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("theme: [unclosed\n")
    with pytest.raises(PolicyFileError, match=r"broken\.yaml: not valid YAML"):
        load_themes(tmp_path)


def test_two_files_for_one_theme_variant_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(THEME.replace("three point two", '"3.2"'))
    (tmp_path / "b.yaml").write_text(THEME.replace("three point two", '"3.2"'))
    with pytest.raises(PolicyFileError, match="defined twice"):
        load_themes(tmp_path)


def test_the_shipped_file_type_policy_loads() -> None:
    policy = load_file_type_policy(Path(__file__).parents[2] / "policies" / "file_types.yaml")
    assert policy.type_by_code("pdf") is not None


def test_the_shipped_chase_policy_reminds_two_working_days_ahead() -> None:
    policy = load_chase_policy(Path(__file__).parents[2] / "policies" / "chasing.yaml")
    assert policy.reminder_working_days_before == 2 and policy.why


def test_a_negative_chase_window_is_refused_naming_its_line(tmp_path: Path) -> None:
    (tmp_path / "chasing.yaml").write_text("why: test\nreminder_working_days_before: -1\n")
    with pytest.raises(PolicyFileError, match=r"chasing\.yaml:2: reminder_working_days_before"):
        load_chase_policy(tmp_path / "chasing.yaml")
