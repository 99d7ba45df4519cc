"""decide_file_type on zip facts: a container's problem gives the reason an uploader can act
on, and the policy's container limits apply to the declared sizes whatever the classifier
was built with."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.adapters.policy_files import load_file_type_policy
from portal.domain.containers import (
    ContainerEntry,
    ContainerFinding,
    ContainerLimits,
    ContainerProblem,
)
from portal.domain.documents import Outcome
from portal.domain.file_types import FileFacts, decide_file_type, extension_of
from portal.domain.reasons import ReasonCode

POLICY = load_file_type_policy(Path(__file__).resolve().parents[2] / "policies" / "file_types.yaml")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PACKAGE = ("[Content_Types].xml", "_rels/.rels", "word/document.xml")


def zip_facts(
    filename: str,
    mime_type: str,
    *,
    members: tuple[str, ...] = PACKAGE,
    finding: ContainerProblem | None = None,
    entries: tuple[ContainerEntry, ...] = (),
) -> FileFacts:
    return FileFacts(
        filename=filename,
        extension=extension_of(filename),
        size_bytes=2048,
        mime_type=mime_type,
        description="Microsoft Word 2007+" if mime_type == DOCX else "Zip archive data",
        container_members=members,
        container_entries=entries,
        container_finding=(
            ContainerFinding(problem=finding, detail=f"{finding.value} found") if finding else None
        ),
    )


def reason(facts: FileFacts) -> ReasonCode | None:
    decision = decide_file_type(facts, POLICY)
    assert decision.verdict.outcome is Outcome.reject
    return decision.verdict.reason


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        (ContainerProblem.compression_ratio, ReasonCode.container_limits_exceeded),
        (ContainerProblem.too_many_entries, ReasonCode.container_limits_exceeded),
        (ContainerProblem.too_large_unpacked, ReasonCode.container_limits_exceeded),
        (ContainerProblem.nested_archive, ReasonCode.embedded_archive_not_allowed),
        (ContainerProblem.encrypted_entry, ReasonCode.encrypted),
        (ContainerProblem.polyglot, ReasonCode.type_mismatch),
        (ContainerProblem.inconsistent_directory, ReasonCode.corrupt),
        (ContainerProblem.unsafe_name, ReasonCode.corrupt),
        (ContainerProblem.duplicate_name, ReasonCode.corrupt),
        (ContainerProblem.xml_entities, ReasonCode.corrupt),
        (ContainerProblem.damaged_data, ReasonCode.corrupt),
    ],
)
def test_a_documents_container_problem_gives_its_own_reason(
    problem: ContainerProblem, expected: ReasonCode
) -> None:
    assert reason(zip_facts("plan.docx", DOCX, finding=problem)) is expected


def test_a_document_whose_members_were_never_listed_is_known_by_its_type() -> None:
    facts = zip_facts("plan.docx", DOCX, members=(), finding=ContainerProblem.too_many_entries)

    assert reason(facts) is ReasonCode.container_limits_exceeded


@pytest.mark.parametrize(
    "problem",
    [
        ContainerProblem.compression_ratio,
        ContainerProblem.nested_archive,
        ContainerProblem.encrypted_entry,
        ContainerProblem.too_many_entries,
    ],
)
def test_a_plain_zips_problem_is_told_as_an_archive(problem: ContainerProblem) -> None:
    facts = zip_facts("files.zip", "application/zip", members=("a.txt",), finding=problem)

    assert reason(facts) is ReasonCode.archive_not_allowed


def test_a_damaged_zip_is_corrupt_whatever_it_claims_to_be() -> None:
    facts = zip_facts(
        "files.zip", "application/zip", members=(), finding=ContainerProblem.unreadable
    )

    assert reason(facts) is ReasonCode.corrupt


def test_the_policys_limits_apply_to_declared_sizes_the_classifier_reported() -> None:
    strict = POLICY.model_copy(update={"container_limits": ContainerLimits(max_entries=2)})
    facts = zip_facts(
        "plan.docx",
        DOCX,
        entries=tuple(
            ContainerEntry(name=n, compressed_size=10, uncompressed_size=20) for n in PACKAGE
        ),
    )

    assert decide_file_type(facts, POLICY).verdict.outcome is Outcome.proceed
    decision = decide_file_type(facts, strict)
    assert decision.verdict.reason is ReasonCode.container_limits_exceeded
    assert "3 members" in decision.verdict.detail


def test_the_container_problem_comes_before_encryption_and_macros() -> None:
    facts = zip_facts(
        "plan.docx",
        DOCX,
        members=(*PACKAGE, "word/vbaProject.bin"),
        finding=ContainerProblem.compression_ratio,
    ).model_copy(update={"encrypted_container": True})

    assert reason(facts) is ReasonCode.container_limits_exceeded


def test_the_shipped_policy_states_the_default_container_limits() -> None:
    assert POLICY.container_limits == ContainerLimits()
