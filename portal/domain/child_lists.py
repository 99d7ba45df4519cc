"""Child-level lists checked against the theme's definition of the list.

The guidance asks agencies for lists of children that use "Unique identification numbers,
rather than full names" (framework 2016, para 19). `check_child_list` is pure: the same
table and definition always give the same verdict and the same neutralised copy.

Decisions, so that a reader can check them against the code:

- Headings are compared by their words: case, spaces, punctuation, curly or straight
  apostrophes, a possessive "'s", a leading "the" and a trailing "(Y/N)" are ignored, and
  "FirstName" or "first_name" read as "first name". So "Child’s Unique ID" and "child
  unique id" are the same heading. The header is the first row of the table.
- ID column: at least one column must carry a heading from `ID_HEADINGS` ("Child ID",
  "Unique ID", "Child's unique ID", "UPN", "ID", "LCS ID", "Person ID", "NHS number"...).
  A definition field that is itself an ID heading ("the child’s unique ID") is satisfied
  by the ID column. A non-blank row with every ID cell blank is missing_child_ids.
- Extra fields: every field of the definition must have a column. With allowed_values
  (Y/N), every non-blank row must hold one of them, compared ignoring case and surrounding
  spaces ("y" is Y; "Yes" is not). Blank is not allowed in such a column: an unanswered
  question is not an answer. Columns of free-text fields are not checked.
- Names, rejected as names_in_child_list:
  * a column whose heading asks for a name: it holds "forename", "surname", "first name",
    "full name", "maiden name", "alias", "known as", ... or the word "name" for a person
    ("Name", "Child's name", "Mother's name", "Social worker name", "GP name"). The word
    "name" is allowed only for a thing: the word before it, or a word just after
    "name of", is in `_THING_WORDS` ("School name", "Team name", "Name of school",
    "GP practice name"). An unknown word before "name" counts as a person: the check
    fails closed. "Social worker team" mentions no name, so it is allowed.
  * a cell that reads as a personal name (two to five capitalised alphabetic words, such
    as "Jane Smith", "SMITH, Jane" or "Mary-Ann O'Neil") in an ID column or in a column
    headed only by a child or family member ("Child", "Young person", "Mother", "Carer").
    Initials ("J S") and anything with a digit are not names. Other columns are not
    searched cell by cell: "Youth Offending Team" would read as a name.
- too_many_children: more non-blank rows than the definition's max_children. Blank rows
  are ignored everywhere (they are kept in the copy so row numbers still match the file).
- Mix (a theme's `mix` rule, e.g. DA para 114's age groups): each child's group is read
  from the rule's column by its words ("Under 2" is "under 2"); a child whose answer is in
  no group, or blank, counts in none. The guidance asks for the mix "if possible", so a
  list that misses it, or has no such column, is accepted with mix_not_met saying which
  groups are short: never refused.
- The children a list names (`listed_children`): every non-blank ID cell of a non-blank
  row, as `child_id_key` (no spaces, case folded: "AB 12" and "ab12" are one child), with
  the mix group it gives, if any. Nothing else of the row is kept.
- One verdict: when a list has several problems, the reason is the first of names,
  ID column, required columns, missing IDs, values, number of children, and the detail
  lists the first problems of every kind.
- Messages name columns by the heading the guidance or this module uses, or by column
  letter, and rows by the row number a spreadsheet shows. They never quote a cell that
  could hold a name: a wrong answer is quoted only when it is a common answer word or has
  no letters ("'maybe' is not Y or N").

Neutralising (OWASP "CSV Injection"): a cell whose first character is = + - @, tab,
carriage return or line feed (or whose first non-space character is = + - @, or their
full-width forms) is stored with a single quote ' in front, so a spreadsheet shows it as
text. A plain number such as -5, +3.5, -1,234.50 or -1e5 is left alone: a spreadsheet
reads it as a number and runs nothing. Dates ("2024-01-05", "05/01/2024") never start with
a sign, so they are left alone too. Headings are neutralised like any other cell.
Neutralising is idempotent: a cell that already starts with ' is left as it is.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from portal.domain.checklist import ChildList, ListField, MixRule
from portal.domain.documents import Verdict
from portal.domain.errors import PortalError
from portal.domain.reasons import ReasonCode, WarningCode

_FROZEN = ConfigDict(frozen=True)


class ListTable(BaseModel):
    """A list as rows of text: the header row and the rows under it.

    `header_row` is the row number a spreadsheet shows for the header (1 unless blank rows
    came before it); data row i (from 0) is row header_row + 1 + i of the file.
    """

    model_config = _FROZEN

    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    header_row: int = Field(default=1, ge=1)


class ListCheck(BaseModel):
    """The verdict on a list, and the copy of it to store if the verdict lets it through."""

    model_config = _FROZEN

    verdict: Verdict
    neutralised: ListTable
    neutralised_cells: int = Field(ge=0)


class ListedChild(BaseModel):
    """A child an accepted list names: its unique ID as `child_id_key`, and the group of
    the theme's mix rule the list puts it in (None: no rule, no column or no known answer)."""

    model_config = _FROZEN

    child_key: str = Field(min_length=1, max_length=64)
    row: int = Field(ge=1, description="The row of the file naming the child.")
    group: str | None = None


class UnreadableList(PortalError):
    """A list file could not be read as a table; `reason` says why (corrupt, too big...).

    Permanent: the same bytes will never read differently, so it is rejected, not retried.
    """


# --- headings ---------------------------------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "ʼ": "'", "´": "'"})
_POSSESSIVE = re.compile(r"'s\b")
_WORD = re.compile(r"[^\W_]+")
_ANSWER_SUFFIXES = (("y", "n"), ("yes", "no"))

ID_HEADINGS: frozenset[str] = frozenset(
    {
        "id",
        "id number",
        "id no",
        "identifier",
        "unique id",
        "unique identifier",
        "unique reference",
        "unique reference number",
        "child id",
        "child id number",
        "child id no",
        "child identifier",
        "child unique id",
        "child unique identifier",
        "child unique reference",
        "unique child id",
        "child number",
        "child ref",
        "child reference",
        "child reference number",
        "person id",
        "person number",
        "person reference",
        "client id",
        "client number",
        "pupil id",
        "young person id",
        "yp id",
        "case id",
        "case number",
        "case ref",
        "case reference",
        "case reference number",
        "crn",
        "upn",
        "unique pupil number",
        "child upn",
        "lcs id",
        "lcs number",
        "mosaic id",
        "mosaic number",
        "eclipse id",
        "nhs number",
        "nhs no",
    }
)
"""Headings accepted for the child's unique ID, as normalised words (see module doc)."""

_PERSON_NAME_WORDS = frozenset(
    {
        "forename",
        "forenames",
        "surname",
        "surnames",
        "firstname",
        "firstnames",
        "lastname",
        "lastnames",
        "fullname",
        "fullnames",
        "givenname",
        "givennames",
        "familyname",
        "middlename",
        "middlenames",
        "maidenname",
        "nickname",
        "nicknames",
        "childname",
        "childsname",
        "alias",
        "aliases",
        "aka",
    }
)
_NAME_WORDS = frozenset({"name", "names"})
_KNOWN_AS = ("known", "as")

# Words that, before "name" or after "name of", make it the name of a thing, not a person.
_THING_WORDS = frozenset(
    {
        "school",
        "schools",
        "college",
        "academy",
        "nursery",
        "setting",
        "settings",
        "establishment",
        "provision",
        "provider",
        "providers",
        "placement",
        "placements",
        "home",
        "team",
        "teams",
        "agency",
        "agencies",
        "service",
        "services",
        "organisation",
        "organisations",
        "organization",
        "organizations",
        "partnership",
        "trust",
        "force",
        "police",
        "station",
        "hospital",
        "practice",
        "surgery",
        "clinic",
        "centre",
        "center",
        "hub",
        "unit",
        "ward",
        "department",
        "directorate",
        "office",
        "site",
        "location",
        "locality",
        "area",
        "authority",
        "council",
        "borough",
        "district",
        "county",
        "region",
        "town",
        "city",
        "village",
        "street",
        "road",
        "court",
        "prison",
        "institution",
        "project",
        "programme",
        "program",
        "scheme",
        "intervention",
        "course",
        "pathway",
        "panel",
        "meeting",
        "group",
        "plan",
        "list",
        "file",
        "document",
        "form",
        "report",
        "sheet",
        "field",
        "column",
        "category",
        "type",
        "system",
        "database",
    }
)

# Headings naming a child or a family member: the cells under them are checked for names.
_PERSON_HEADINGS = frozenset(
    {
        "child",
        "children",
        "young person",
        "young people",
        "yp",
        "pupil",
        "student",
        "client",
        "person",
        "service user",
        "mother",
        "father",
        "parent",
        "parents",
        "carer",
        "carers",
        "parent carer",
        "parents carers",
        "sibling",
        "siblings",
        "family member",
        "family members",
    }
)

_SAFE_WORDS = frozenset(
    {w for h in ID_HEADINGS | _PERSON_HEADINGS for w in h.split()}
    | _PERSON_NAME_WORDS
    | _NAME_WORDS
    | _THING_WORDS
    | {
        "of",
        "the",
        "a",
        "s",
        "and",
        "or",
        "first",
        "last",
        "full",
        "given",
        "family",
        "middle",
        "maiden",
        "preferred",
        "known",
        "as",
        "also",
        "other",
        "previous",
        "legal",
        "social",
        "worker",
        "gp",
        "professional",
        "lead",
        "allocated",
    }
)


def heading_words(heading: str) -> tuple[str, ...]:
    """The words of a heading, lowercased, without punctuation or a possessive "'s".

    "Child’s Unique ID" and "child's unique id" both give ("child", "unique", "id");
    "FirstName" and "first_name" both give ("first", "name").
    """
    text = _CAMEL.sub(" ", heading).translate(_APOSTROPHES).casefold()
    text = _POSSESSIVE.sub("", text).replace("'", "")
    return tuple(_WORD.findall(text))


def _key(heading: str) -> str:
    """The words compared when matching a heading: no leading "the", no trailing "(Y/N)"."""
    words = heading_words(heading)
    if words[:1] == ("the",):
        words = words[1:]
    for suffix in _ANSWER_SUFFIXES:
        if len(words) > len(suffix) and words[-len(suffix) :] == suffix:
            words = words[: -len(suffix)]
    return " ".join(words)


def is_id_heading(heading: str) -> bool:
    """Whether the heading is one of `ID_HEADINGS` once normalised."""
    return _key(heading) in ID_HEADINGS


def is_name_heading(heading: str) -> bool:
    """Whether a column with this heading would hold a person's name (see module doc)."""
    words = heading_words(heading)
    if any(w in _PERSON_NAME_WORDS for w in words):
        return True
    if any(words[i : i + 2] == _KNOWN_AS for i in range(len(words))):
        return True
    for i, word in enumerate(words):
        if word not in _NAME_WORDS:
            continue
        before = words[i - 1] if i > 0 else ""
        after = words[i + 2 : i + 5] if words[i + 1 : i + 2] == ("of",) else ()
        if before not in _THING_WORDS and not any(w in _THING_WORDS for w in after):
            return True
    return False


# --- cells ------------------------------------------------------------------------------

_FORMULA_FIRST = frozenset("=+-@\t\r\n＝＋－＠")
_FORMULA_AFTER_SPACES = frozenset("=+-@＝＋－＠")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NAME_PARTICLES = frozenset({"van", "von", "der", "den", "de", "da", "di", "del", "la", "le"})
_NAME_SEPARATORS = re.compile(r"[\s,]+")
_ANSWER_WORDS = frozenset(
    {
        "y",
        "n",
        "yes",
        "no",
        "true",
        "false",
        "maybe",
        "unknown",
        "not known",
        "n/a",
        "na",
        "none",
        "tbc",
        "y/n",
        "x",
        "?",
    }
)


def is_formula_like(cell: str) -> bool:
    """Whether a spreadsheet opening this cell could run it as a formula.

    True when the cell starts with = + - @, tab, carriage return or line feed, or when its
    first character after spaces is = + - @ (or a full-width form of them); false for a
    plain number such as -5 or +1.5e3, and for anything starting with ' already.
    """
    if not cell:
        return False
    if cell[0] in _FORMULA_FIRST:
        return not _is_plain_number(cell)
    stripped = cell.lstrip(" ")
    return (
        bool(stripped) and stripped[0] in _FORMULA_AFTER_SPACES and not _is_plain_number(stripped)
    )


def _is_plain_number(text: str) -> bool:
    return _PLAIN_NUMBER.fullmatch(text) is not None


def neutralise_cell(cell: str) -> str:
    """The cell as text a spreadsheet will not run: ' in front if `is_formula_like`.

    Idempotent: neutralising a neutralised cell changes nothing.
    """
    return "'" + cell if is_formula_like(cell) else cell


def looks_like_personal_name(cell: str) -> bool:
    """Whether a cell reads as a person's name: two to five capitalised alphabetic words.

    "Jane Smith", "SMITH, Jane", "Mary-Ann O'Neil" and "Jan van der Berg" are names;
    "AB12345", "J S", "jane smith" and "Not known" are not.
    """
    parts = [p for p in _NAME_SEPARATORS.split(cell.strip()) if p]
    named = [p for p in parts if p not in _NAME_PARTICLES]
    if not 2 <= len(named) <= 5:
        return False
    for part in named:
        letters = part.translate(_APOSTROPHES).replace("'", "").replace("-", "").rstrip(".")
        if not letters.isalpha() or not part[0].isupper():
            return False
    return any(len(p) >= 2 for p in named)


# --- the check --------------------------------------------------------------------------

_MAX_DETAIL_PROBLEMS = 6
_ORDER = (
    ReasonCode.names_in_child_list,
    ReasonCode.missing_child_id_column,
    ReasonCode.missing_required_columns,
    ReasonCode.missing_child_ids,
    ReasonCode.invalid_list_values,
    ReasonCode.too_many_children,
)


class _Problems:
    """Problems found, kept in order of reason, with at most a few messages of each."""

    def __init__(self) -> None:
        self.messages: dict[ReasonCode, list[str]] = {code: [] for code in _ORDER}
        self.counts: dict[ReasonCode, int] = dict.fromkeys(_ORDER, 0)

    def add(self, code: ReasonCode, message: str) -> None:
        self.counts[code] += 1
        if len(self.messages[code]) < _MAX_DETAIL_PROBLEMS:
            self.messages[code].append(message)

    def verdict(self) -> Verdict | None:
        found = [code for code in _ORDER if self.counts[code]]
        if not found:
            return None
        shown: list[str] = []
        for code in found:
            shown.extend(self.messages[code])
        total = sum(self.counts.values())
        detail = "; ".join(shown[:_MAX_DETAIL_PROBLEMS])
        if total > _MAX_DETAIL_PROBLEMS:
            detail += f"; and {total - _MAX_DETAIL_PROBLEMS} more"
        return Verdict.reject(found[0], detail=detail)


def column_letter(index: int) -> str:
    """The spreadsheet letter of a column counted from 0: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _shown_heading(heading: str, index: int) -> str:
    """A heading fit to quote back: itself if every word is vocabulary, else its letter."""
    words = heading_words(heading)
    cleaned = " ".join(heading.split())
    if words and len(cleaned) <= 80 and all(w in _SAFE_WORDS for w in words):
        return f"'{cleaned}'"
    return f"column {column_letter(index)}"


def _cell(row: tuple[str, ...], index: int) -> str:
    return row[index] if index < len(row) else ""


def _is_blank(row: tuple[str, ...]) -> bool:
    return all(not cell.strip() for cell in row)


def _allowed_text(values: tuple[str, ...]) -> str:
    if len(values) == 1:
        return values[0]
    return ", ".join(values[:-1]) + " or " + values[-1]


def _quotable_answer(value: str) -> bool:
    text = value.strip()
    return len(text) <= 20 and (
        text.casefold() in _ANSWER_WORDS or not any(c.isalpha() for c in text)
    )


def _find_field_columns(header: tuple[str, ...], field: ListField) -> list[int]:
    wanted = _key(field.name)
    return [i for i, heading in enumerate(header) if _key(heading) == wanted]


def check_child_list(table: ListTable, definition: ChildList) -> ListCheck:
    """Check a list against its definition and make the copy of it that may be stored.

    Guarantees: the verdict proceeds only if the list has an ID column, every row has an
    ID, every extra field has a column with allowed values where the definition gives
    them, no column or ID cell holds names, and it has no more children than asked for;
    it then carries WarningCode.formula_cells_neutralised if any cell was neutralised.
    `neutralised` is the same table with every formula-like cell (header included)
    prefixed with ', and `neutralised_cells` counts them. Detail never quotes a cell that
    may hold a name.
    """
    neutralised, count = _neutralise(table)
    problems = _Problems()
    header = table.header
    rows = [(number, row) for number, row in _numbered_rows(table) if not _is_blank(row)]

    # Names in headings.
    for i, heading in enumerate(header):
        if is_name_heading(heading):
            problems.add(
                ReasonCode.names_in_child_list,
                f"column {_shown_heading(heading, i).removeprefix('column ')} holds names: "
                "use each child's unique ID instead",
            )

    # The ID column, and names in the cells of ID and person columns.
    id_columns = [i for i, heading in enumerate(header) if is_id_heading(heading)]
    person_columns = [i for i, h in enumerate(header) if _key(h) in _PERSON_HEADINGS]
    for i in id_columns + person_columns:
        shown = _shown_heading(header[i], i)
        for number, row in rows:
            if looks_like_personal_name(_cell(row, i)):
                what = ", not an ID" if i in id_columns else ": leave names out"
                problems.add(
                    ReasonCode.names_in_child_list,
                    f"row {number} of {shown} looks like a person's name{what}",
                )
    if not id_columns:
        problems.add(
            ReasonCode.missing_child_id_column,
            "no column for the child's unique ID: head it 'Child ID' "
            "(or 'Unique ID', 'Child's unique ID', 'UPN', 'LCS ID', 'Person ID')",
        )
    else:
        for number, row in rows:
            if all(not _cell(row, i).strip() for i in id_columns):
                problems.add(ReasonCode.missing_child_ids, f"row {number} has no child ID")

    # The theme's extra fields.
    for field in definition.extra_fields:
        if not field.heading or (_key(field.name) in ID_HEADINGS and id_columns):
            continue
        columns = _find_field_columns(header, field)
        if not columns:
            problems.add(ReasonCode.missing_required_columns, f"no column '{field.name}'")
            continue
        if field.allowed_values is None:
            continue
        allowed = {v.strip().casefold() for v in field.allowed_values}
        expected = _allowed_text(field.allowed_values)
        shown = f"'{field.name}'"
        for i in columns:
            for number, row in rows:
                value = _cell(row, i)
                if value.strip().casefold() in allowed:
                    continue
                if not value.strip():
                    message = f"row {number} of {shown} is blank: it must be {expected}"
                elif _quotable_answer(value):
                    message = f"row {number} of {shown}: '{value.strip()}' is not {expected}"
                else:
                    message = f"row {number} of {shown} is not {expected}"
                problems.add(ReasonCode.invalid_list_values, message)

    if definition.max_children is not None and len(rows) > definition.max_children:
        problems.add(
            ReasonCode.too_many_children,
            f"the list has {len(rows)} children; at most {definition.max_children} are asked for",
        )

    verdict = problems.verdict()
    if verdict is None:
        warnings: list[WarningCode] = []
        details: list[str] = []
        if count:
            warnings.append(WarningCode.formula_cells_neutralised)
            details.append(f"{count} cell{'s' if count != 1 else ''} stored as text")
        if definition.mix is not None:
            short = mix_shortfall(definition.mix, _mix_groups(table, definition.mix))
            if short is not None:
                warnings.append(WarningCode.mix_not_met)
                details.append(short)
        verdict = Verdict.proceed(*warnings, detail="; ".join(details))
    return ListCheck(verdict=verdict, neutralised=neutralised, neutralised_cells=count)


# --- the children a list names, and the mix of them ------------------------------------


def child_id_key(child_id: str) -> str:
    """The form two IDs of one child share: without spaces, case folded ("943 476 5919"
    and "9434765919" are one child; so are "ab12" and "AB12")."""
    return "".join(child_id.split()).casefold()


def listed_children(table: ListTable, definition: ChildList) -> tuple[ListedChild, ...]:
    """Every child the list names, once per ID (a row with two ID columns names its child
    by both), in row order, with the mix group its row gives.

    Guarantees: only ID cells and the mix group are taken (never another cell, so never a
    name in a free-text column); blank rows and blank or over-long IDs are skipped.
    """
    id_columns = [i for i, heading in enumerate(table.header) if is_id_heading(heading)]
    mix_column = _mix_column(table.header, definition.mix) if definition.mix else None
    seen: set[str] = set()
    found: list[ListedChild] = []
    for number, row in _numbered_rows(table):
        if _is_blank(row):
            continue
        group = (
            _group_of(_cell(row, mix_column), definition.mix)
            if definition.mix is not None and mix_column is not None
            else None
        )
        for i in id_columns:
            key = child_id_key(_cell(row, i).lstrip("'"))
            if key and len(key) <= 64 and key not in seen:
                seen.add(key)
                found.append(ListedChild(child_key=key, row=number, group=group))
    return tuple(found)


def mix_shortfall(rule: MixRule, groups: Sequence[str | None]) -> str | None:
    """None if the children's groups meet the rule (at least `at_least` in each group), else
    what a lead inspector reads: the rule's paragraph, what it asks, and each short group
    with how many the list has. `groups` holds one entry per child (None: in no group)."""
    if not groups or all(g is None for g in groups):
        return (
            f"the list gives no '{rule.column}' for its children, so the mix {rule.source} asks "
            f"for (if possible, at least {rule.at_least} from each group: "
            f"{'; '.join(g.name for g in rule.groups)}) could not be checked"
        )
    counts = Counter(groups)
    short = [
        f"{group.name}: {counts[group.name]}"
        for group in rule.groups
        if counts[group.name] < rule.at_least
    ]
    if not short:
        return None
    return (
        f"{rule.source} asks, if possible, for at least {rule.at_least} children from each "
        f"group; this list has {'; '.join(short)}"
    )


def _mix_column(header: tuple[str, ...], rule: MixRule) -> int | None:
    wanted = _key(rule.column)
    return next((i for i, heading in enumerate(header) if _key(heading) == wanted), None)


def _group_of(cell: str, rule: MixRule) -> str | None:
    answer = _key(cell)
    if not answer:
        return None
    for group in rule.groups:
        if answer in {_key(v) for v in group.values}:
            return group.name
    return None


def _mix_groups(table: ListTable, rule: MixRule) -> list[str | None]:
    column = _mix_column(table.header, rule)
    rows = [row for row in table.rows if not _is_blank(row)]
    if column is None:
        return []
    return [_group_of(_cell(row, column), rule) for row in rows]


def _numbered_rows(table: ListTable) -> list[tuple[int, tuple[str, ...]]]:
    first = table.header_row + 1
    return [(first + i, row) for i, row in enumerate(table.rows)]


def _neutralise(table: ListTable) -> tuple[ListTable, int]:
    count = 0

    def clean(row: tuple[str, ...]) -> tuple[str, ...]:
        nonlocal count
        if not any(is_formula_like(cell) for cell in row):
            return row
        out = []
        for cell in row:
            if is_formula_like(cell):
                count += 1
                out.append("'" + cell)
            else:
                out.append(cell)
        return tuple(out)

    header = clean(table.header)
    rows = tuple(clean(row) for row in table.rows)
    if not count:
        return table, 0
    neutralised = ListTable.model_construct(header=header, rows=rows, header_row=table.header_row)
    return neutralised, count
