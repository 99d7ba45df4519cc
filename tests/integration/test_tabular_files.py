"""read_table and write_table on real CSV and XLSX files made here with csv and openpyxl."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from portal.adapters import tabular_files
from portal.adapters.tabular_files import read_table, write_table
from portal.domain.checklist import ChildList, ListField
from portal.domain.child_lists import ListTable, UnreadableList, check_child_list
from portal.domain.documents import Outcome
from portal.domain.reasons import ReasonCode, WarningCode

ABUSE = "Has the child been a victim of domestic abuse? (Y/N)"
LIST = ChildList(
    key="ilacs_list_6_children_in_need",
    title="All those in receipt of services as a child in need",
    agency="local_authority",
    deadline="week1_tuesday_5pm",
    extra_fields=(ListField(name=ABUSE, allowed_values=("Y", "N")),),
)


def test_reads_a_semicolon_csv_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    text = f'Child ID;{ABUSE};Notes\r\nLA1;Y;"a; b"\r\nLA2;N;-5\r\n'
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))

    listed = read_table(path, "csv")

    assert listed.header == ("Child ID", ABUSE, "Notes")
    assert listed.rows == (("LA1", "Y", "a; b"), ("LA2", "N", "-5"))
    assert check_child_list(listed, LIST).verdict.outcome is Outcome.proceed


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_sniffs_comma_semicolon_and_tab_delimiters(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "list.csv"
    lines = ["Child ID", ABUSE, "Agencies"], ["LA1", "Y", "YOT"], ["LA2", "N", "Police"]
    path.write_text("\n".join(delimiter.join(line) for line in lines) + "\n", encoding="utf-8")

    listed = read_table(path, "csv")

    assert listed.header == ("Child ID", ABUSE, "Agencies")
    assert listed.rows[1] == ("LA2", "N", "Police")


def test_reads_a_one_column_csv(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("Child ID\nLA1\nLA2\n", encoding="utf-8")

    assert read_table(path, "csv") == ListTable(header=("Child ID",), rows=(("LA1",), ("LA2",)))


def test_skips_leading_blank_rows_drops_trailing_blanks_and_pads_rows(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(",,\n\nChild ID,Notes,,\nLA1\n,,\nLA2,x,,\n,,,\n\n", encoding="utf-8")

    listed = read_table(path, "csv")

    assert listed.header_row == 3
    assert listed.header == ("Child ID", "Notes")
    assert listed.rows == (("LA1", ""), ("", ""), ("LA2", "x"))


def test_refuses_a_csv_that_is_not_utf8_as_an_encoding_problem(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes("Child ID,Notes\nLA1,cost £5 café\n".encode("cp1252"))

    with pytest.raises(UnreadableList) as raised:
        read_table(path, "csv")

    assert raised.value.reason is ReasonCode.text_encoding_not_supported


def test_refuses_a_csv_whose_bad_bytes_come_after_the_sniffed_part(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    good = "".join(f"LA{n},Y\n" for n in range(20_000)).encode()
    path.write_bytes(b"Child ID,Notes\n" + good + "LA,caf\xe9\n".encode("latin-1"))

    with pytest.raises(UnreadableList) as raised:
        read_table(path, "csv")

    assert raised.value.reason is ReasonCode.text_encoding_not_supported


def test_refuses_a_csv_with_more_rows_than_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tabular_files, "MAX_ROWS", 5)
    path = tmp_path / "list.csv"
    path.write_text("Child ID\n" + "".join(f"LA{n}\n" for n in range(6)), encoding="utf-8")

    with pytest.raises(UnreadableList) as raised:
        read_table(path, "csv")

    assert raised.value.reason is ReasonCode.list_too_large


def test_refuses_a_csv_with_more_than_200_columns(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(",".join(f"c{n}" for n in range(201)) + "\n", encoding="utf-8")

    with pytest.raises(UnreadableList) as raised:
        read_table(path, "csv")

    assert raised.value.reason is ReasonCode.list_too_large


def test_reads_the_first_sheet_of_a_workbook_as_text_with_iso_dates(tmp_path: Path) -> None:
    path = tmp_path / "list.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Child ID", ABUSE, "Date of birth", "Hours", "Score", "Seen"])
    sheet.append(["LA1", "Y", date(2012, 3, 4), 25, 2.5, True])
    sheet.append(["LA2", "N", datetime(2010, 11, 30, 9, 15), -5, None, False])
    sheet["A4"] = "LA3"
    sheet["B4"] = "N"
    sheet["D4"] = "=1+1"  # a live formula: read as its cached value, never as the formula
    sheet["E4"] = '=HYPERLINK("http://example.test","x")'
    sheet["E4"].data_type = "s"  # text that a spreadsheet would run if it were typed in
    workbook.create_sheet("Other")["A1"] = "ignored"
    workbook.save(path)

    listed = read_table(path, "xlsx")

    assert listed.header == ("Child ID", ABUSE, "Date of birth", "Hours", "Score", "Seen")
    assert listed.rows == (
        ("LA1", "Y", "2012-03-04", "25", "2.5", "TRUE"),
        ("LA2", "N", "2010-11-30T09:15:00", "-5", "", "FALSE"),
        ("LA3", "N", "", "", '=HYPERLINK("http://example.test","x")', ""),
    )
    check = check_child_list(listed, LIST)
    assert check.verdict.outcome is Outcome.proceed
    assert check.verdict.warnings == (WarningCode.formula_cells_neutralised,)
    assert check.neutralised_cells == 1
    assert check.neutralised.rows[2][4] == '\'=HYPERLINK("http://example.test","x")'
    assert check.neutralised.rows[1][3] == "-5"


@pytest.mark.parametrize("file_type", ["csv", "xlsx"])
def test_the_neutralised_copy_reads_back_as_written(tmp_path: Path, file_type: str) -> None:
    original = ListTable(
        header=("Child ID", ABUSE, "Notes"),
        rows=(
            ("LA1", "Y", "=1+1"),
            ("LA2", "N", "-5"),
            ("LA3", "Y", "@SUM(A1)"),
            ("LA4", "N", 'quote " and, comma; and £ and é'),
        ),
    )
    check = check_child_list(original, LIST)
    target = tmp_path / f"copy.{file_type}"

    write_table(check.neutralised, target, file_type)
    back = read_table(target, file_type)

    assert back == check.neutralised
    assert check.neutralised_cells == 2
    assert check_child_list(back, LIST).neutralised_cells == 0


def test_writes_no_live_formula_into_a_workbook_even_from_a_raw_table(tmp_path: Path) -> None:
    target = tmp_path / "copy.xlsx"

    write_table(ListTable(header=("Child ID",), rows=(("=1+1",), ("-5",))), target, "xlsx")

    with zipfile.ZipFile(target) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    workbook = openpyxl.load_workbook(target)
    cells = [cell.value for cell in workbook.active["A"]]
    assert cells == ["Child ID", "'=1+1", "-5"]
    assert [cell.data_type for cell in workbook.active["A"]] == ["s", "s", "s"]


def test_writes_a_csv_that_quotes_every_field_with_a_byte_order_mark(tmp_path: Path) -> None:
    target = tmp_path / "copy.csv"

    write_table(ListTable(header=("Child ID", "Notes"), rows=(("LA1", "+x"),)), target, "csv")

    assert target.read_bytes() == b'\xef\xbb\xbf"Child ID","Notes"\r\n"LA1","\'+x"\r\n'


def test_a_corrupt_workbook_gives_the_corrupt_reason(tmp_path: Path) -> None:
    path = tmp_path / "list.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 200)

    with pytest.raises(UnreadableList) as raised:
        read_table(path, "xlsx")

    assert raised.value.reason is ReasonCode.corrupt


def test_a_zip_that_is_not_a_workbook_gives_the_corrupt_reason(tmp_path: Path) -> None:
    path = tmp_path / "list.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")

    with pytest.raises(UnreadableList) as raised:
        read_table(path, "xlsx")

    assert raised.value.reason is ReasonCode.corrupt


def test_a_workbook_with_broken_sheet_xml_gives_the_corrupt_reason(tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["Child ID"])
    workbook.save(good)
    broken = tmp_path / "list.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            target.writestr(info, data)

    with pytest.raises(UnreadableList) as raised:
        read_table(broken, "xlsx")

    assert raised.value.reason is ReasonCode.corrupt


def test_refuses_a_workbook_with_a_value_beyond_column_200(tmp_path: Path) -> None:
    path = tmp_path / "list.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Child ID"
    workbook.active.cell(row=2, column=201, value="x")
    workbook.save(path)

    with pytest.raises(UnreadableList) as raised:
        read_table(path, "xlsx")

    assert raised.value.reason is ReasonCode.list_too_large


def test_refuses_a_workbook_that_inflates_past_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tabular_files, "MAX_XLSX_INFLATED_BYTES", 1000)
    path = tmp_path / "list.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Child ID"
    workbook.save(path)

    with pytest.raises(UnreadableList) as raised:
        read_table(path, "xlsx")

    assert raised.value.reason is ReasonCode.list_too_large


def test_refuses_a_file_type_that_is_not_a_table(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a table file type"):
        read_table(tmp_path / "x.pdf", "pdf")


def test_picks_the_delimiter_most_rows_agree_with_when_headings_hold_commas(
    tmp_path: Path,
) -> None:
    path = tmp_path / "list.csv"
    header = "Child ID;Is the child a child in need, on a plan or in care;Notes"
    path.write_text(f"{header}\nLA1;CIN;x\nLA2;CP;y\n", encoding="utf-8")

    listed = read_table(path, "csv")

    assert listed.header[1] == "Is the child a child in need, on a plan or in care"
    assert listed.rows == (("LA1", "CIN", "x"), ("LA2", "CP", "y"))


def test_refuses_a_file_that_records_too_many_rows_even_blank_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tabular_files, "MAX_ROWS", 5)
    monkeypatch.setattr(tabular_files, "BLANK_ROWS_ALLOWED", 3)
    path = tmp_path / "list.csv"
    path.write_text("Child ID\nLA1\n" + ",\n" * 9, encoding="utf-8")

    with pytest.raises(UnreadableList) as raised:
        read_table(path, "csv")

    assert raised.value.reason is ReasonCode.list_too_large


def test_allows_a_few_blank_rows_after_the_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tabular_files, "MAX_ROWS", 5)
    monkeypatch.setattr(tabular_files, "BLANK_ROWS_ALLOWED", 3)
    path = tmp_path / "list.csv"
    path.write_text(
        "Child ID\n" + "".join(f"LA{n}\n" for n in range(5)) + ",\n" * 3, encoding="utf-8"
    )

    assert len(read_table(path, "csv").rows) == 5
