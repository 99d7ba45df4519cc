"""What the name register page shows and how its form is read: the register's rows, and
the words that say how to put the form right. No I/O and no HTML here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from portal.domain.retention import NAME_MAX, NAME_NOTE_MAX, NAME_REFERENCE_MAX, NameEntry
from portal.web import views

FIELDS = ("name", "reference", "note")


@dataclass(frozen=True)
class NameForm:
    """The form as typed and what is wrong with it (nothing: it can be recorded)."""

    values: dict[str, str]
    errors: list[dict[str, str]]


def name_values(fields: Mapping[str, str]) -> dict[str, str]:
    """The form's fields as typed, without surrounding spaces (blank when new)."""
    return {name: fields.get(name, "").strip() for name in FIELDS}


_TOO_LONG = {
    "name": ("The name", NAME_MAX),
    "reference": ("The child’s unique ID", NAME_REFERENCE_MAX),
    "note": ("The note", NAME_NOTE_MAX),
}


def read_name_form(fields: Mapping[str, str]) -> NameForm:
    """The name, the child's unique ID and the note as the use case takes them, or the
    errors saying what to fix: a name is needed, and each field has the API's limit."""
    values = name_values(fields)
    errors: list[dict[str, str]] = []
    if not values["name"]:
        errors.append({"href": "#name", "text": "Enter the name", "field": "name"})
    for field, (subject, most) in _TOO_LONG.items():
        if len(values[field]) > most:
            errors.append(
                {
                    "href": f"#{field}",
                    "text": f"{subject} must be {most} characters or fewer",
                    "field": field,
                }
            )
    return NameForm(values, errors)


@dataclass(frozen=True)
class NameRow:
    """One line of the register as the page shows it."""

    name: str
    reference: str
    note: str
    recorded: str


def name_rows(entries: list[NameEntry]) -> list[NameRow]:
    """The register in the order names were recorded (initials only, once reduced)."""
    return [
        NameRow(
            name=entry.name,
            reference=entry.reference,
            note=entry.note,
            recorded=views.when_words(entry.recorded_at),
        )
        for entry in entries
    ]
