"""The guidance's own text, read from policies/sources, for tests that check a theme's
quotes stand where they say."""

from __future__ import annotations

import re
from pathlib import Path

SOURCES = Path(__file__).resolve().parents[2] / "policies" / "sources"
NUMBERED = re.compile(r"^\s*([0-9]+)\.\s")


def guidance(seed: str | Path) -> str:
    """The whole text of a guidance document (a file name in policies/sources, or a path),
    its whitespace run together."""
    path = seed if isinstance(seed, Path) else SOURCES / seed
    return " ".join(path.read_text(encoding="utf-8").split())


def paragraph(seed: str | Path, place: str) -> str:
    """The text of the numbered paragraph `place` names (e.g. 'para 127', 'February 2022
    guidance, para 74'), from its number to the next paragraph's, whitespace run together;
    for 'timeline table', the 2016 framework's working-day table. Fails if there is none."""
    path = seed if isinstance(seed, Path) else SOURCES / seed
    lines = path.read_text(encoding="utf-8").splitlines()
    if place == "timeline table":
        first = next(i for i, line in enumerate(lines) if line.startswith("Usual day of week"))
        last = next(i for i, line in enumerate(lines) if line == "Pre-inspection activity")
        return " ".join(" ".join(lines[first:last]).split())
    found = re.search(r"\bpara(?:graph)? ([0-9]+)\b", place)
    assert found, f"{place!r} names no paragraph"
    number = int(found.group(1))
    starts = [i for i, line in enumerate(lines) if _number(line) == number]
    assert starts, f"{path.name} has no paragraph {number}"
    ends = [i for i, line in enumerate(lines) if i > starts[0] and _number(line) == number + 1]
    end = ends[0] if ends else len(lines)
    return " ".join(" ".join(lines[starts[0] : end]).split())


def _number(line: str) -> int | None:
    found = NUMBERED.match(line)
    return int(found.group(1)) if found else None
