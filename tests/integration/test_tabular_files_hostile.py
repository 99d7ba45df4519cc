"""read_table on hostile workbooks: XML entity tricks are refused unexpanded (defusedxml),
and a workbook is read whatever its stored file is called."""

from __future__ import annotations

import time
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from portal.adapters.tabular_files import read_table
from portal.domain.child_lists import UnreadableList
from portal.domain.reasons import ReasonCode
from tests.corpus import make_corpus as corpus


def test_openpyxl_parses_workbooks_with_defusedxml() -> None:
    assert openpyxl.DEFUSEDXML is True


def test_refuses_a_billion_laughs_workbook_as_corrupt_at_once(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(corpus.xlsx_entity_bomb())

    started = time.monotonic()
    with pytest.raises(UnreadableList) as refused:
        read_table(path, "xlsx")

    assert time.monotonic() - started < 5
    assert refused.value.reason is ReasonCode.corrupt
    assert "entities" in str(refused.value)


def test_refuses_a_workbook_reaching_for_a_local_file_through_an_external_entity(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("DO-NOT-LEAK")
    path = tmp_path / "xxe.xlsx"
    path.write_bytes(
        corpus.xlsx_with(
            [["Child ID"]],
            prolog=f'<!DOCTYPE worksheet [<!ENTITY leak SYSTEM "file://{secret}">]>\n',
            raw_cells={2: '<c r="A2" t="inlineStr"><is><t>&leak;</t></is></c>'},
        )
    )

    with pytest.raises(UnreadableList) as refused:
        read_table(path, "xlsx")

    assert refused.value.reason is ReasonCode.corrupt
    assert "DO-NOT-LEAK" not in str(refused.value)


def test_reads_a_workbook_stored_without_an_extension(tmp_path: Path) -> None:
    path = tmp_path / "3f2a9c0d"  # objects are stored by document id
    path.write_bytes(corpus.xlsx_with([["Child ID", "Notes"], ["C1001", "=1+1"]]))

    table = read_table(path, "xlsx")

    assert table.header == ("Child ID", "Notes")
    assert table.rows == (("C1001", "=1+1"),)
