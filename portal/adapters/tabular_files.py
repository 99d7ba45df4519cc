"""Child-level lists read from and written to CSV and XLSX files.

Reading gives a `ListTable` of text for `check_child_list`; writing stores the neutralised
copy in the format it came in. What is decided here:

- CSV is read as UTF-8, with or without a byte order mark; anything else (Excel's
  "CSV (Comma delimited)" in Windows-1252 with a £ or an é, UTF-16) is refused as
  text_encoding_not_supported, never guessed. The delimiter is chosen from the first
  64 KiB among comma, semicolon and tab: the one whose split of the header most rows
  agree with; comma when none splits the header.
- XLSX is read with openpyxl (read-only, cached values) parsing its XML with defusedxml:
  a part that declares entities (billion laughs) or reaches for an external DTD is
  corrupt, refused at once, never expanded. The module refuses to import if openpyxl
  would parse with the unprotected standard library instead. The first worksheet only, every
  cell as text. A formula gives the value Excel last calculated (blank if it never was),
  so the stored copy never holds a live formula. Dates are ISO 8601 ("2024-01-05", or
  "2024-01-05T10:30:00" with a time), whole numbers have no ".0", booleans are TRUE/FALSE.
- Blank rows before the header are skipped (`ListTable.header_row` says where the header
  was); blank rows after the last filled row and blank columns after the last filled
  column are dropped; every row is padded to the same width. Blank rows in between are
  kept so row numbers match the file.
- Bounds: more than `MAX_ROWS` rows under the header, more than `MAX_COLUMNS` columns,
  more than `MAX_CELLS` cells, a file that records more than MAX_ROWS + 1 +
  `BLANK_ROWS_ALLOWED` rows even if the last ones are blank (a workbook row costs time
  to read however wide its empty styled cells make it), or an XLSX whose parts inflate
  past `MAX_XLSX_INFLATED_BYTES` is list_too_large; reading stops as soon as a bound is
  passed.
- Writing: CSV as UTF-8 with a byte order mark (so Excel shows accents and £ correctly),
  comma-separated, every field quoted (OWASP's advice with the ' prefix); XLSX as one
  sheet named "List" of text cells. Both pass every cell through `neutralise_cell` first,
  so whatever table is given, the file written holds no formula.

Every failure to read is an `UnreadableList` carrying its ReasonCode.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import openpyxl  # type: ignore[import-untyped]
from defusedxml.common import DefusedXmlException  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

from portal.domain.child_lists import ListTable, UnreadableList, neutralise_cell
from portal.domain.reasons import ReasonCode

if not openpyxl.DEFUSEDXML:  # pragma: no cover - only with OPENPYXL_DEFUSEDXML=False
    raise ImportError(
        "openpyxl would parse workbooks without defusedxml (is OPENPYXL_DEFUSEDXML set to "
        "something other than True?); refusing to read spreadsheets unprotected"
    )

TABLE_FILE_TYPES = frozenset({"csv", "xlsx"})
"""The file type codes (policies/file_types.yaml) that `read_table` and `write_table` take."""

MAX_ROWS = 100_000
MAX_COLUMNS = 200
MAX_CELLS = 2_000_000
BLANK_ROWS_ALLOWED = 10_000
MAX_XLSX_INFLATED_BYTES = 256 * 1024 * 1024
_SNIFF_BYTES = 64 * 1024
_DELIMITERS = ",;\t"
_SHEET_TITLE = "List"

# What openpyxl and the libraries under it raise for a damaged workbook: a bad zip, a
# missing part, XML that does not parse, or values where the format wants others.
_DAMAGED_XLSX = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    InvalidFileException,
    ParseError,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    EOFError,
    zlib.error,
    NotImplementedError,
)


def read_table(path: Path, file_type: str) -> ListTable:
    """Read the list in `path` ("csv" or "xlsx") as text, within the bounds above.

    Raises UnreadableList (corrupt, text_encoding_not_supported or list_too_large) when the
    file cannot be read as a table; ValueError if `file_type` is not in TABLE_FILE_TYPES.
    """
    if file_type == "csv":
        return _read_csv(path)
    if file_type == "xlsx":
        return _read_xlsx(path)
    raise ValueError(f"not a table file type: {file_type!r}")


def write_table(table: ListTable, target: Path, file_type: str) -> None:
    """Write `table` to `target` as "csv" or "xlsx", every cell neutralised, header first.

    The file written holds no cell a spreadsheet would run as a formula, and reading it
    back with `read_table` gives the neutralised table (for XLSX, less any characters XML
    cannot hold). Raises ValueError if `file_type` is not in TABLE_FILE_TYPES.
    """
    if file_type == "csv":
        _write_csv(table, target)
    elif file_type == "xlsx":
        _write_xlsx(table, target)
    else:
        raise ValueError(f"not a table file type: {file_type!r}")


# --- shaping rows into a bounded table ---------------------------------------------------


def _too_large(what: str) -> UnreadableList:
    return UnreadableList(what, reason=ReasonCode.list_too_large)


def _shape(rows: Iterable[list[str]]) -> ListTable:
    """Skip leading blank rows, drop trailing blank rows and columns, pad, and bound."""
    header: list[str] | None = None
    header_row = 0
    kept: list[list[str]] = []
    blanks_pending = 0
    width = 0
    cells = 0
    last_row = MAX_ROWS + 1 + BLANK_ROWS_ALLOWED
    for number, row in enumerate(rows, start=1):
        if number > last_row:
            # Even blank: each row a workbook records costs time to read, however wide.
            raise _too_large(f"more than {last_row} rows, counting blank ones")
        last = _last_filled(row)
        if last == 0:
            if header is not None:
                blanks_pending += 1
            continue
        if last > MAX_COLUMNS:
            raise _too_large(f"row {number} has more than {MAX_COLUMNS} columns")
        width = max(width, last)
        if header is None:
            header, header_row = row[:last], number
            cells += last
            continue
        if len(kept) + blanks_pending + 1 > MAX_ROWS:
            raise _too_large(f"more than {MAX_ROWS} rows under the header")
        kept.extend([] for _ in range(blanks_pending))
        blanks_pending = 0
        kept.append(row[:last])
        cells += last
        if cells > MAX_CELLS:
            raise _too_large(f"more than {MAX_CELLS} cells")
    if header is None:
        return ListTable()
    if width * (len(kept) + 1) > MAX_CELLS:
        raise _too_large(f"more than {MAX_CELLS} cells")

    def padded(row: list[str]) -> tuple[str, ...]:
        return (*row, *([""] * (width - len(row))))

    return ListTable(
        header=padded(header),
        rows=tuple(padded(row) for row in kept),
        header_row=header_row,
    )


def _last_filled(row: list[str]) -> int:
    """1 + the index of the last non-blank cell; 0 for a blank row."""
    for index in range(len(row) - 1, -1, -1):
        if row[index].strip():
            return index + 1
    return 0


# --- CSV ----------------------------------------------------------------------------------


def _read_csv(path: Path) -> ListTable:
    delimiter = _sniff_delimiter(path)
    try:
        with path.open(encoding="utf-8-sig", errors="strict", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter, strict=False)
            return _shape(_bounded_csv_rows(reader))
    except UnicodeDecodeError as error:
        raise UnreadableList(
            "not UTF-8 text",
            reason=ReasonCode.text_encoding_not_supported,
        ) from error
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise _too_large("a cell is longer than any list needs") from error
        raise UnreadableList(f"not a readable CSV: {error}", reason=ReasonCode.corrupt) from error


def _bounded_csv_rows(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    for row in reader:
        if len(row) > MAX_COLUMNS:
            # Trailing empty fields (";;;;") are not columns; anything else is too wide.
            if _last_filled(row) > MAX_COLUMNS:
                raise _too_large(f"a row has more than {MAX_COLUMNS} columns")
            row = row[:MAX_COLUMNS]
        yield row


def _sniff_delimiter(path: Path) -> str:
    """The delimiter of the first complete lines: comma, semicolon or tab (comma if unsure)."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if len(head) == _SNIFF_BYTES and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]
    head = head.removeprefix(codecs.BOM_UTF8)
    try:
        sample = head.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableList(
            "not UTF-8 text",
            reason=ReasonCode.text_encoding_not_supported,
        ) from error
    return _choose_delimiter(sample)


def _choose_delimiter(sample: str) -> str:
    """The delimiter that splits the header into most agreeing rows (then most columns).

    Parsed with quotes, so "a; b" in quotes does not count. csv.Sniffer is not used: it
    guesses from quotes first and gets a semicolon file with one quoted cell wrong.
    """
    best, best_score = ",", (0, 1)
    for delimiter in _DELIMITERS:
        try:
            records = list(
                itertools.islice(csv.reader(io.StringIO(sample), delimiter=delimiter), 100)
            )
        except csv.Error:
            continue
        filled = [record for record in records if any(cell.strip() for cell in record)]
        if not filled:
            continue
        width = len(filled[0])
        score = (sum(1 for record in filled if len(record) == width), width)
        if width > 1 and score > best_score:
            best, best_score = delimiter, score
    return best


def _write_csv(table: ListTable, target: Path) -> None:
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow([neutralise_cell(cell) for cell in table.header])
        for row in table.rows:
            writer.writerow([neutralise_cell(cell) for cell in row])


# --- XLSX ---------------------------------------------------------------------------------


def _read_xlsx(path: Path) -> ListTable:
    _refuse_zip_bomb(path)
    # Opened here and handed over as a file: given a path, openpyxl insists on an .xlsx
    # extension, and stored objects are named by document id.
    with path.open("rb") as handle:
        try:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except _DAMAGED_XLSX as error:
            if _caused_by_forbidden_xml(error):
                raise _xml_forbidden() from error
            raise UnreadableList(
                f"not a readable workbook: {type(error).__name__}", reason=ReasonCode.corrupt
            ) from error
        try:
            sheets = workbook.worksheets
            if not sheets:
                return ListTable()
            sheet = sheets[0]
            # The <dimension> a file declares may be wrong or vast; without it, each row is
            # as wide as its last cell, and a row with no cells costs nothing.
            sheet.reset_dimensions()
            return _shape(_xlsx_rows(sheet.iter_rows(values_only=True)))
        except _DAMAGED_XLSX as error:
            if _caused_by_forbidden_xml(error):
                raise _xml_forbidden() from error
            raise UnreadableList(
                f"not a readable worksheet: {type(error).__name__}", reason=ReasonCode.corrupt
            ) from error
        finally:
            workbook.close()


def _caused_by_forbidden_xml(error: BaseException) -> bool:
    """True if defusedxml refused a part (openpyxl wraps its error in a ValueError)."""
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, DefusedXmlException):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _xml_forbidden() -> UnreadableList:
    return UnreadableList(
        "the workbook's XML declares entities or an external DTD, which no spreadsheet "
        "program writes",
        reason=ReasonCode.corrupt,
    )


def _refuse_zip_bomb(path: Path) -> None:
    """Refuse a workbook whose parts declare more than MAX_XLSX_INFLATED_BYTES in all.

    zipfile never returns more than a member's declared size, so the declared sizes bound
    what openpyxl can inflate.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as error:
        raise UnreadableList("not a readable workbook", reason=ReasonCode.corrupt) from error
    if inflated > MAX_XLSX_INFLATED_BYTES:
        raise _too_large(f"the workbook inflates to {inflated} bytes")


def _xlsx_rows(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[str]]:
    for row in rows:
        if row.count(None) == len(row):  # at C speed, however many styled empty cells
            yield []
            continue
        if len(row) > MAX_COLUMNS:
            beyond = row[MAX_COLUMNS:]
            # count() runs at C speed over the empty styled cells a sheet may carry far right.
            if beyond.count(None) != len(beyond) and any(
                _xlsx_text(value).strip() for value in beyond if value is not None
            ):
                raise _too_large(f"a row has more than {MAX_COLUMNS} columns")
            row = row[:MAX_COLUMNS]
        yield [_xlsx_text(value) for value in row]


def _xlsx_text(value: Any) -> str:
    """A cached cell value as the text a reader of the list would see."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _write_xlsx(table: ListTable, target: Path) -> None:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(_SHEET_TITLE)
    sheet.append(_text_cells(sheet, table.header))
    for row in table.rows:
        sheet.append(_text_cells(sheet, row))
    workbook.save(target)


def _text_cells(sheet: Any, row: tuple[str, ...]) -> list[Any]:
    """Cells that are text whatever they hold: never a formula, never a number."""
    cells = []
    for value in row:
        cell = WriteOnlyCell(sheet, neutralise_cell(ILLEGAL_CHARACTERS_RE.sub("", value)))
        cell.data_type = "s"
        cells.append(cell)
    return cells


class SpreadsheetTables:
    """The TableFiles port over read_table and write_table."""

    def read(self, path: Path, file_type: str) -> ListTable:
        """The table in `path`; raises UnreadableList if it cannot be read as one."""
        return read_table(path, file_type)

    def write(self, table: ListTable, target: Path, file_type: str) -> None:
        """Write `table` to `target` in the given format."""
        write_table(table, target, file_type)
