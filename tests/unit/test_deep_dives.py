"""An admin adds a deep dive's items to the 2016 framework with a file of its own."""

import shutil
from pathlib import Path

import pytest

from portal.adapters.policy_files import PolicyFileError, load_themes

THEMES = Path(__file__).parents[2] / "policies" / "themes"
DEEP_DIVE = """\
base: framework-2016/generic
variant: cse-missing-test
title: Test deep dive
source: test guidance
agencies:
  - code: local_authority
    items:
      - number: "1.90"
        title: Missing children protocol
        deadline: {deadline}
  - code: community_safety_partnership
    name: Community safety partnership
    items:
      - number: "9.1"
        title: Strategy
        deadline: {deadline}
"""


@pytest.fixture
def themes_dir(tmp_path: Path) -> Path:
    target = tmp_path / "themes"
    target.mkdir()
    shutil.copy(THEMES / "framework-2016.yaml", target)
    return target


def _a_deadline() -> str:
    themes = load_themes(THEMES)
    timeline = themes["framework-2016/generic"].timeline
    assert timeline is not None
    return next(iter(timeline.deadlines))


def test_a_deep_dive_file_becomes_a_variant_with_the_base_items_and_its_own(
    themes_dir: Path,
    tmp_path: Path,
) -> None:
    deep = tmp_path / "deep-dives"
    deep.mkdir()
    (deep / "cse.yaml").write_text(DEEP_DIVE.format(deadline=_a_deadline()))
    themes = load_themes(themes_dir, deep)
    base = themes["framework-2016/generic"]
    variant = themes["framework-2016/cse-missing-test"]
    local_authority = variant.agency("local_authority")
    assert local_authority is not None
    assert [i.number for i in local_authority.items][-1] == "1.90"
    assert variant.agency("community_safety_partnership") is not None
    assert variant.timeline == base.timeline


def test_a_deep_dive_with_an_unknown_deadline_fails_naming_the_file(
    themes_dir: Path,
    tmp_path: Path,
) -> None:
    deep = tmp_path / "deep-dives"
    deep.mkdir()
    (deep / "bad.yaml").write_text(DEEP_DIVE.format(deadline="no_such_deadline"))
    with pytest.raises(PolicyFileError, match=r"bad\.yaml: cannot be added"):
        load_themes(themes_dir, deep)


def test_a_deep_dive_of_an_unknown_base_fails_naming_the_file(
    themes_dir: Path,
    tmp_path: Path,
) -> None:
    deep = tmp_path / "deep-dives"
    deep.mkdir()
    (deep / "bad.yaml").write_text(
        DEEP_DIVE.format(deadline="x").replace("framework-2016/generic", "nope/v1")
    )
    with pytest.raises(PolicyFileError, match="base theme 'nope/v1' is not loaded"):
        load_themes(themes_dir, deep)
