"""What the records officer's pages show, worked out from retention's run and hold records:
a run's entries grouped by what happened to them, holds with their state, proof in
words. No I/O and no HTML here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.domain.access import Inspection
from portal.domain.retention import LegalHold, RetentionEntry, RetentionRun, due_day_text
from portal.web import views
from portal.web.inspector_views import size_words

ACTION_HEADINGS = {
    "would_delete": "What would be deleted",
    "deleted": "What was deleted",
    "failed": "What could not be deleted",
    "held": "What is held back by a legal hold",
    "would_reduce_names": "Names that would be reduced to initials",
    "names_reduced": "Names reduced to initials",
}
"""Each action a run records, in the order the page shows them."""

RUN_STATUS = {
    "running": views.Tag("Running", "yellow"),
    "completed": views.Tag("Completed", "green"),
    "interrupted": views.Tag("Interrupted", "red"),
}

SUMMARY_WORDS = {
    "would_delete": "Would be deleted",
    "deleted": "Deleted",
    "held": "Held back",
    "kept": "Kept (not due yet)",
    "failed": "Could not be deleted",
    "resumed": "Finished for an interrupted run",
    "bytes_deleted": "Bytes deleted",
    "leftovers_deleted": "Leftovers of interrupted writes deleted",
}

KIND_WORDS = {
    "document": "Document",
    "outbox": "Sent and queued messages",
    "names": "Name register",
    "audit_log": "Audit log",
    "leftovers": "Leftovers of interrupted writes",
    "concerns": "Issues of concern",
}


def words(code: str | None) -> str:
    """A snake_case code as words: 'health_record' -> 'Health record'."""
    if not code:
        return ""
    text = code.replace("_", " ")
    return text[:1].upper() + text[1:]


def day_words(day: date | None) -> str:
    return due_day_text(day) if day else ""


@dataclass(frozen=True)
class EntryLine:
    kind: str
    record_id: str
    inspection: str
    retention_class: str
    rule: str
    due: str
    reason: str
    sha256: str
    size: str
    count: str
    hold_ids: tuple[str, ...]
    proof: tuple[tuple[str, str], ...]
    resumed_from: str


@dataclass(frozen=True)
class EntryGroup:
    action: str
    heading: str
    lines: tuple[EntryLine, ...]


def _line(entry: RetentionEntry, names: dict[str, str]) -> EntryLine:
    return EntryLine(
        kind=KIND_WORDS.get(entry.record_kind, words(entry.record_kind)),
        record_id=entry.record_id or "",
        inspection=names.get(entry.inspection_id or "", entry.inspection_id or ""),
        retention_class=words(entry.retention_class),
        rule=entry.rule,
        due=day_words(entry.due),
        reason=entry.reason,
        sha256=entry.sha256 or "",
        size=size_words(entry.size_bytes) if entry.size_bytes is not None else "",
        count=str(entry.count) if entry.count is not None else "",
        hold_ids=tuple(entry.hold_ids),
        proof=tuple((words(k), _proof_value(v)) for k, v in sorted(entry.proof.items())),
        resumed_from=entry.resumed_from or "",
    )


def _proof_value(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def entry_groups(run: RetentionRun, names: dict[str, str]) -> list[EntryGroup]:
    """The run's entries grouped by action, in ACTION_HEADINGS' order (others last)."""
    order = list(ACTION_HEADINGS) + sorted({e.action for e in run.entries} - set(ACTION_HEADINGS))
    groups = []
    for action in order:
        lines = tuple(_line(e, names) for e in run.entries if e.action == action)
        if lines:
            groups.append(EntryGroup(action, ACTION_HEADINGS.get(action, words(action)), lines))
    return groups


def summary_lines(run: RetentionRun) -> list[tuple[str, str]]:
    """The run's tally in words, biggest news first."""
    ordered = [k for k in SUMMARY_WORDS if k in run.summary] + sorted(
        set(run.summary) - set(SUMMARY_WORDS)
    )
    lines = []
    for key in ordered:
        value = int(run.summary[key])
        shown = size_words(value) if key == "bytes_deleted" else str(value)
        lines.append((SUMMARY_WORDS.get(key, words(key)), shown))
    return lines


def run_kind(run: RetentionRun) -> str:
    return "Dry run" if run.dry_run else "Deleting run"


def run_tag(run: RetentionRun) -> views.Tag:
    return RUN_STATUS.get(run.status, views.Tag(words(run.status), "grey"))


@dataclass(frozen=True)
class HoldLine:
    id: str
    inspection: str
    what: str
    reason: str
    placed: str
    active: bool
    lifted: str


def hold_lines(holds: list[LegalHold], names: dict[str, str]) -> list[HoldLine]:
    """Active holds first, newest first within each."""
    ordered = sorted(holds, key=lambda h: (not h.active, -h.placed_at.timestamp(), h.id))
    return [
        HoldLine(
            id=h.id,
            inspection=names.get(h.inspection_id, h.inspection_id),
            what=f"Document {h.document_id}" if h.document_id else "The whole inspection",
            reason=h.reason,
            placed=f"{h.placed_by}, {views.when_words(h.placed_at)}",
            active=h.active,
            lifted=(
                f"{h.lifted_by}, {views.when_words(h.lifted_at)}: {h.lift_reason}"
                if h.lifted_at
                else ""
            ),
        )
        for h in ordered
    ]


def inspection_name(inspection: Inspection) -> str:
    """How the pages name an inspection: its area, with when fieldwork starts."""
    if inspection.fieldwork_start is None:
        return inspection.area_name
    start = inspection.fieldwork_start
    return f"{inspection.area_name} (fieldwork {start.day} {start:%B %Y})"
