"""Each theme carries what its guidance says about asking agencies for more than the theme
lists, in the guidance's own words and paragraph; the lead's page shows it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from portal.domain.checklist import AdditionalRequests, ThemePolicy
from tests.unit.guidance import paragraph

THEMES_DIR = Path(__file__).resolve().parents[2] / "policies" / "themes"
GUIDANCE = {
    "domestic-abuse-2024.yaml": "001_0b4502cca47843a8.txt",
    "serious-youth-violence-2023.yaml": "004_e19ff684d5e0a5fb.txt",
    "front-door-2022-five-week.yaml": "000_6d4663349f4569d2.txt",
    # The two-minute guide (003) says nothing of it: the variant quotes the February 2022
    # guidance, as it does for its Annex A items.
    "front-door-2022-three-week.yaml": "000_6d4663349f4569d2.txt",
    "framework-2016.yaml": "002_fdb87cb2edf2eb07.txt",
}


def _theme(filename: str) -> ThemePolicy:
    with (THEMES_DIR / filename).open(encoding="utf-8") as handle:
        return ThemePolicy.model_validate(yaml.safe_load(handle))


def test_every_theme_file_is_checked() -> None:
    assert set(GUIDANCE) == {p.name for p in THEMES_DIR.glob("*.yaml")}


@pytest.mark.parametrize("filename", sorted(GUIDANCE))
def test_each_quote_stands_word_for_word_in_the_paragraph_it_cites(filename: str) -> None:
    quoted = _theme(filename).additional_requests
    assert quoted
    for rule in quoted:
        assert " ".join(rule.quote.split()) in paragraph(GUIDANCE[filename], rule.source)


@pytest.mark.parametrize(
    ("filename", "sources"),
    [
        ("domestic-abuse-2024.yaml", ["para 36"]),
        ("serious-youth-violence-2023.yaml", ["para 54", "para 127"]),
        ("front-door-2022-five-week.yaml", ["para 74", "para 80"]),
        (
            "front-door-2022-three-week.yaml",
            ["February 2022 guidance, para 74", "February 2022 guidance, para 80"],
        ),
        ("framework-2016.yaml", ["para 17"]),
    ],
)
def test_each_theme_quotes_the_paragraphs_of_its_guidance_on_asking_for_more(
    filename: str, sources: list[str]
) -> None:
    assert [q.source for q in _theme(filename).additional_requests] == sources


@pytest.mark.parametrize(
    "bad",
    [
        {"quote": "too short", "source": "para 17"},
        {"quote": "Inspectors may ask for additional information.", "source": "Annex A"},
        {"quote": "Inspectors may ask for additional information.", "source": ""},
    ],
)
def test_a_quote_needs_words_and_a_numbered_paragraph(bad: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        AdditionalRequests.model_validate(bad)
