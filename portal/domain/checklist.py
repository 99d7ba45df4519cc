"""A theme's checklist as data: timeline, Annex A items per agency, child-level lists,
case selection, case records and audits.

Loaded from policies/themes/*.yaml (portal/adapters/policy_files.py) into these frozen
models. Every `quote` holds the guidance's own words, so a reader can check the data
against the document it came from.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from portal.domain.after_fieldwork import AfterFieldworkPolicy
from portal.domain.documents import Area, Verdict
from portal.domain.reasons import ReasonCode
from portal.domain.timeline import DeadlineRule, TimelineShape, WorkingCalendar, rule_day

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_KEY = r"^[a-z][a-z0-9_]*$"


class NamedDeadline(BaseModel):
    """A deadline rule and the words the guidance uses for it."""

    model_config = _FROZEN

    rule: DeadlineRule
    quote: str = Field(min_length=1, description="e.g. 'By 5pm on Tuesday in week 1'")
    depends_on: tuple[str, ...] = Field(
        default=(),
        description="Deadlines whose work this one needs done first (e.g. case records "
        "need the children chosen): it always falls on a later working day than each.",
    )


class TimelinePolicy(BaseModel):
    """The weeks of a theme's inspection and every deadline its requests name."""

    model_config = _FROZEN

    shape: TimelineShape
    deadlines: dict[str, NamedDeadline] = Field(min_length=1)

    @model_validator(mode="after")
    def _keys_are_names(self) -> TimelinePolicy:
        bad = sorted(k for k in self.deadlines if not re.fullmatch(_KEY, k))
        if bad:
            raise ValueError(f"deadline keys must be snake_case: {bad}")
        unknown = sorted(
            {p for d in self.deadlines.values() for p in d.depends_on} - set(self.deadlines)
        )
        if unknown:
            raise ValueError(f"depends_on names deadlines not in the timeline: {unknown}")
        self.in_dependency_order()
        self._rules_keep_dependencies()
        return self

    def in_dependency_order(self) -> list[str]:
        """Every deadline key, each after all it depends on (ties in the policy's order);
        ValueError if the dependencies go round in a circle."""
        ordered: list[str] = []
        remaining = list(self.deadlines)
        while remaining:
            ready = [
                k for k in remaining if all(p in ordered for p in self.deadlines[k].depends_on)
            ]
            if not ready:
                raise ValueError(f"deadlines depend on each other in a circle: {remaining}")
            ordered += ready
            remaining = [k for k in remaining if k not in ready]
        return ordered

    def _rules_keep_dependencies(self) -> None:
        """Without bank holidays, the guidance's own days already keep every dependency:
        a bank holiday is the only thing the schedule has to correct for."""
        monday, plain = date(2030, 1, 7), WorkingCalendar()
        days = {k: rule_day(d.rule, self.shape, monday, plain) for k, d in self.deadlines.items()}
        for key, named in self.deadlines.items():
            early = [p for p in named.depends_on if days[p] >= days[key]]
            if early:
                raise ValueError(
                    f"deadline {key} depends on {early}, which its rules put on the same "
                    "day or later: a deadline must fall on a later working day than those "
                    "it depends on"
                )


class LookBack(BaseModel):
    """How far back an item reaches: N months before the inspection, or the N most recent."""

    model_config = _FROZEN

    quote: str = Field(min_length=1, description="e.g. 'over the 12 months before the inspection'")
    months: int | None = Field(default=None, ge=1, le=120)
    most_recent: int | None = Field(default=None, ge=1, le=100)

    @model_validator(mode="after")
    def _one_kind(self) -> LookBack:
        if (self.months is None) == (self.most_recent is None):
            raise ValueError("a look-back gives either months or most_recent")
        return self


class AnnexAItem(BaseModel):
    """One numbered item of Annex A, as printed in the guidance."""

    model_config = _FROZEN

    number: str = Field(pattern=r"^[0-9]+(\.[0-9]+)*$")
    title: str = Field(min_length=1)
    description: str = ""
    deadline: str | None = Field(default=None, description="Key of a timeline deadline.")
    lookback: LookBack | None = None
    health_record: bool = False
    optional: bool = False


class AgencyKind(StrEnum):
    """What kind of agency it is, where a rule depends on it: a health agency's case
    records and audits are health records, seen only on site."""

    health = "health"
    other = "other"


class AgencyChecklist(BaseModel):
    """The items one agency is asked for."""

    model_config = _FROZEN

    code: str = Field(pattern=_KEY)
    name: str
    kind: AgencyKind = Field(
        default=AgencyKind.other,
        description="'health' for a health agency (ICB, providers): its case records and "
        "audits are health records unless the theme quotes guidance saying otherwise.",
    )
    items: tuple[AnnexAItem, ...]

    @model_validator(mode="after")
    def _numbers_unique(self) -> AgencyChecklist:
        numbers = [item.number for item in self.items]
        duplicated = sorted({n for n in numbers if numbers.count(n) > 1})
        if duplicated:
            raise ValueError(f"item numbers repeated for agency {self.code}: {duplicated}")
        return self


class ListField(BaseModel):
    """An extra column the theme asks for in a child-level list."""

    model_config = _FROZEN

    name: str = Field(min_length=1, description="Column heading as the guidance prints it.")
    quote: str = ""
    allowed_values: tuple[str, ...] | None = Field(
        default=None, description="e.g. ['Y', 'N']; None means free text."
    )
    heading: bool = Field(
        default=True,
        description="False where the guidance describes what each row holds rather than "
        "naming a column (e.g. 'the agencies involved with the child and their family'); "
        "such fields are not checked as column headings.",
    )


class MixGroup(BaseModel):
    """One group of a mix rule, in the guidance's words, and the answers in the list's
    column that put a child in it (compared as words: case, spaces and punctuation aside)."""

    model_config = _FROZEN

    name: str = Field(min_length=1, description="e.g. 'children aged under 2 years old'")
    values: tuple[str, ...] = Field(min_length=1, description="e.g. ['Under 2', 'Under 2s']")


class MixRule(BaseModel):
    """A mix the guidance asks of each list (e.g. at least 2 children from each age group).

    The guidance asks it "if possible", so a list that misses it is accepted with a warning
    saying which group is short, never refused.
    """

    model_config = _FROZEN

    quote: str = Field(min_length=20, description="Quoted exactly from the guidance.")
    source: str = Field(
        pattern=r"(?i)\b(para(graph)?|annex)\b.*[0-9A-Z]",
        description="Where the quote stands, e.g. 'para 114'.",
    )
    column: str = Field(min_length=1, description="The list's column giving each child's group.")
    at_least: int = Field(ge=1, le=100, description="Children wanted from each group.")
    groups: tuple[MixGroup, ...] = Field(min_length=1)


class ChildList(BaseModel):
    """A list of children an agency shares (an ILACS list or one of the theme's own)."""

    model_config = _FROZEN

    key: str = Field(pattern=_KEY)
    title: str = Field(min_length=1, description="The guidance's words for the list.")
    ilacs_list: int | None = Field(default=None, ge=1, le=20)
    agency: str = Field(pattern=_KEY)
    deadline: str
    extra_fields: tuple[ListField, ...] = ()
    max_children: int | None = Field(default=None, ge=1)
    mix: MixRule | None = None


class CaseSelection(BaseModel):
    """How many children are shortlisted, then audited, and by when."""

    model_config = _FROZEN

    shortlist_size: int = Field(ge=1, le=100)
    shortlist_quote: str
    shortlist_questions: tuple[str, ...] = ()
    audit_min: int = Field(ge=1, le=30)
    audit_max: int = Field(ge=1, le=30)
    audit_quote: str
    audit_selected_by: str = Field(description="Key of the deadline for choosing them.")

    @model_validator(mode="after")
    def _range(self) -> CaseSelection:
        if self.audit_min > self.audit_max:
            raise ValueError("audit_min is greater than audit_max")
        return self


class OffSiteQuote(BaseModel):
    """The guidance's own words saying that a health agency's records may be read off site,
    and the paragraph they stand in: the only way a theme opts out of on-site viewing."""

    model_config = _FROZEN

    quote: str = Field(min_length=20, description="Quoted exactly from the guidance.")
    source: str = Field(
        pattern=r"(?i)\b(para(graph)?|annex)\b.*[0-9A-Z]",
        description="Where the quote stands, e.g. 'para 118'.",
    )


class OnSiteQuote(OffSiteQuote):
    """The guidance's own words asking that records be seen on site and not sent, and the
    paragraph they stand in."""


class CaseRecordRequest(BaseModel):
    """The documents one agency shares for each audited child."""

    model_config = _FROZEN

    agency: str = Field(pattern=_KEY)
    documents: tuple[str, ...] = Field(min_length=1, description="Quoted, one per document.")
    deadline: str
    health_record: bool | None = Field(
        default=None,
        description="Unset: a health agency's case records are health records, other "
        "agencies' are not. true marks another agency's as health records; false (a health "
        "agency's only) needs readable_off_site.",
    )
    readable_off_site: OffSiteQuote | None = None
    seen_on_site: OnSiteQuote | None = Field(
        default=None,
        description="The guidance's words asking that these records be seen on site, not "
        "sent, and their paragraph: every slot of this agency is then to be seen on site "
        "(the agency confirms where and when instead of uploading).",
    )


class SingleAgencyAudits(BaseModel):
    """Single-agency audits of each audited child, asked of some agencies on top of the
    partnership's multi-agency audit (e.g. 001 para 119: "Each of the relevant health
    services involved with the child should share a single-agency audit")."""

    model_config = _FROZEN

    quote: str = Field(min_length=1, description="The guidance's words, quoted exactly.")
    source: str = Field(min_length=1, description="Where they stand, e.g. 'para 119'.")
    kind: AgencyKind | None = Field(
        default=None, description="Every agency of this kind is asked (e.g. health)."
    )
    agencies: tuple[str, ...] = Field(default=(), description="Or these agencies by code.")
    optional: bool = Field(
        default=False, description="True where the guidance says 'any ... that they created'."
    )

    @model_validator(mode="after")
    def _names_someone(self) -> SingleAgencyAudits:
        if (self.kind is None) == (not self.agencies):
            raise ValueError("single-agency audits name either a kind of agency or agencies")
        return self

    def asks(self, agency: AgencyChecklist) -> bool:
        """Whether this request is made of `agency`."""
        return agency.kind is self.kind if self.kind is not None else agency.code in self.agencies


class AuditRequest(BaseModel):
    """The local partnership's audits of the selected children: a multi-agency audit of
    each child, shared by one agency on the partnership's behalf, and any single-agency
    audits the guidance asks for."""

    model_config = _FROZEN

    quote: str
    deadline: str
    shared_by: str = Field(
        pattern=_KEY,
        description="The agency whose uploader shares the multi-agency audit of each child "
        "for the partnership: it is on that agency's checklist, and it is chased for it.",
    )
    single_agency: tuple[SingleAgencyAudits, ...] = ()
    health_agencies_readable_off_site: OffSiteQuote | None = Field(
        default=None,
        description="The guidance's words letting health agencies' audits be read off site; "
        "without them a health agency's audit is a health record.",
    )


class ChildSet(StrEnum):
    """Which children a per-child request is made for."""

    shortlisted = "shortlisted"
    audited = "audited"


class OtherRequest(BaseModel):
    """Something the guidance asks agencies to send that is not an Annex A item, a list of
    children, a case record or an audit: the answers about each shortlisted child, details
    of the meetings in the fieldwork week, a list of audits... Each agency it names owes
    it (once, or once per child of `per_child`), on its checklist, chased like any item."""

    model_config = _FROZEN

    key: str = Field(pattern=_KEY)
    title: str = Field(min_length=1, description="What the agency sees on its checklist.")
    quote: str = Field(min_length=1, description="The guidance's words, quoted exactly.")
    source: str = Field(
        pattern=r"(?i)\b(para(graph)?|annex|guide|table)\b.*[0-9A-Z]",
        description="Where they stand, e.g. 'para 115', or 'timeline table, day 2' where "
        "the guidance's request is a row of its timeline table.",
    )
    agencies: tuple[str, ...] = Field(min_length=1)
    deadline: str
    per_child: ChildSet | None = None
    optional: bool = False


class AdditionalRequests(BaseModel):
    """What the guidance says about asking agencies for more than it lists (e.g. 004 para
    127: "the lead inspectors may request additional lists to those listed above"): the
    words the lead reads before asking an agency for an item of their own."""

    model_config = _FROZEN

    quote: str = Field(min_length=20, description="The guidance's words, quoted exactly.")
    source: str = Field(
        pattern=r"(?i)\bpara(graph)?\b.*[0-9]",
        description="The paragraph they stand in, e.g. 'para 127'.",
    )


class IssuesOfConcern(BaseModel):
    """The guidance's own words on issues of concern (an inspector's concern referred to an
    agency's senior officer, answered in writing, evaluated and signed off) and the
    paragraph they stand in: shown beside the inspection's concerns."""

    model_config = _FROZEN

    quote: str = Field(min_length=20, description="Quoted exactly from the guidance.")
    source: str = Field(
        pattern=r"(?i)\b(para(graph)?|annex)\b.*[0-9A-Z]",
        description="Where the quote stands, e.g. 'para 88'.",
    )


class ThemePolicy(BaseModel):
    """Everything a theme variant asks of the agencies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    theme: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    variant: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    source: str
    timeline: TimelinePolicy | None = None
    agencies: tuple[AgencyChecklist, ...]
    child_lists: tuple[ChildList, ...] = ()
    selection: CaseSelection | None = None
    case_records: tuple[CaseRecordRequest, ...] = ()
    audits: AuditRequest | None = None
    requests: tuple[OtherRequest, ...] = ()
    additional_requests: tuple[AdditionalRequests, ...] = Field(
        default=(),
        description="The guidance's words on asking for more than the theme lists, each "
        "with its paragraph; empty where the guidance says nothing about it (the theme "
        "file says so in a comment).",
    )
    after_fieldwork: AfterFieldworkPolicy | None = None
    issues_of_concern: IssuesOfConcern | None = None

    @model_validator(mode="after")
    def _references_resolve(self) -> ThemePolicy:
        deadlines = set(self.timeline.deadlines) if self.timeline else set()
        used = {
            *(i.deadline for a in self.agencies for i in a.items if i.deadline),
            *(c.deadline for c in self.child_lists),
            *(r.deadline for r in self.case_records),
            *((self.audits.deadline,) if self.audits else ()),
            *((self.selection.audit_selected_by,) if self.selection else ()),
            *(r.deadline for r in self.requests),
        }
        missing = sorted(used - deadlines)
        if missing:
            raise ValueError(f"deadlines used but not in the timeline: {missing}")
        agencies = {a.code for a in self.agencies}
        strangers = sorted(
            {c.agency for c in self.child_lists}
            | {r.agency for r in self.case_records}
            | {a for r in self.requests for a in r.agencies}
            | (
                {self.audits.shared_by, *(a for s in self.audits.single_agency for a in s.agencies)}
                if self.audits
                else set()
            )
        )
        unknown = [a for a in strangers if a not in agencies]
        if unknown:
            raise ValueError(
                f"lists, case records, audits or requests name agencies not in the theme: {unknown}"
            )
        self._health_opt_outs_are_quoted()
        self._keys_unique()
        return self

    def _keys_unique(self) -> None:
        """Uploads name a list as `list:<key>` and a request as `request:<key>`: a key
        given twice would leave one of them out of reach."""
        for what, keys in (
            ("child list", [c.key for c in self.child_lists]),
            ("request", [r.key for r in self.requests]),
        ):
            repeated = sorted({k for k in keys if keys.count(k) > 1})
            if repeated:
                raise ValueError(f"{what} keys repeated: {repeated}")

    def _health_opt_outs_are_quoted(self) -> None:
        kinds = {a.code: a.kind for a in self.agencies}
        for request in self.case_records:
            health = kinds[request.agency] is AgencyKind.health
            if health and request.health_record is False and request.readable_off_site is None:
                raise ValueError(
                    f"case records of {request.agency}: a health agency's case records are "
                    "health records, seen only on site; health_record: false needs "
                    "readable_off_site with the guidance's quote and paragraph saying so"
                )
            if request.readable_off_site is not None and (
                not health or request.health_record is True
            ):
                raise ValueError(
                    f"case records of {request.agency}: readable_off_site is only for a "
                    "health agency whose case records are not health records"
                )

    def case_records_are_health_records(self, agency: str) -> bool:
        """Whether `agency`'s case records are health records (seen only on site): a
        health agency's are unless the theme quotes guidance saying they may be read off
        site; another agency's only if the theme marks them so."""
        request = next((r for r in self.case_records if r.agency == agency), None)
        found = self.agency(agency)
        health = found is not None and found.kind is AgencyKind.health
        if request is None:
            return health
        if request.health_record is not None:
            return request.health_record
        return health and request.readable_off_site is None

    def audits_are_health_records(self, agency: str) -> bool:
        """Whether `agency`'s audits are health records (seen only on site): a health
        agency's are unless the theme's audits quote guidance saying they may be read off
        site; so are those of an agency whose case records the theme marks as health
        records."""
        found = self.agency(agency)
        opted_out = self.audits is not None and self.audits.health_agencies_readable_off_site
        if found is not None and found.kind is AgencyKind.health and not opted_out:
            return True
        return any(r.agency == agency and r.health_record is True for r in self.case_records)

    @property
    def key(self) -> str:
        """The name an inspection uses to say which theme variant it follows."""
        return f"{self.theme}/{self.variant}"

    def request(self, key: str) -> OtherRequest | None:
        """The other request with this key, or None."""
        return next((r for r in self.requests if r.key == key), None)

    def single_agency_audits(self, code: str) -> SingleAgencyAudits | None:
        """The single-agency audit request made of agency `code` (the first, if several
        name it), or None if none is."""
        found = self.agency(code)
        if self.audits is None or found is None:
            return None
        return next((s for s in self.audits.single_agency if s.asks(found)), None)

    def agency(self, code: str) -> AgencyChecklist | None:
        """The checklist of one agency, or None if the theme asks nothing of it."""
        return next((a for a in self.agencies if a.code == code), None)

    def find_item(self, number: str) -> tuple[AgencyChecklist, AnnexAItem] | None:
        """The agency and item with this number, or None if no agency is asked for it."""
        for agency in self.agencies:
            for item in agency.items:
                if item.number == number:
                    return agency, item
        return None


class DeepDiveAgencyItems(BaseModel):
    """The deep-dive items one agency is asked for, on top of the base theme's."""

    model_config = _FROZEN

    code: str = Field(pattern=_KEY)
    name: str | None = Field(default=None, description="Needed if the base lacks the agency.")
    items: tuple[AnnexAItem, ...]


class DeepDivePolicy(BaseModel):
    """A deep-dive theme's own requests, added to a generic base theme (e.g. the 2016
    framework, whose guidance leaves its deep-dive items to separate guidance)."""

    model_config = _FROZEN

    base: str = Field(description="The base theme variant, e.g. 'framework-2016/generic'.")
    variant: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    source: str
    agencies: tuple[DeepDiveAgencyItems, ...] = ()
    child_lists: tuple[ChildList, ...] = ()


def with_deep_dive(base: ThemePolicy, deep_dive: DeepDivePolicy) -> ThemePolicy:
    """The base theme with the deep dive's items and lists added, as a variant of its own.

    Raises ValueError (via validation) if an item number clashes or a deadline is unknown.
    """
    added = {a.code: a for a in deep_dive.agencies}
    agencies = [
        a.model_copy(update={"items": a.items + added.pop(a.code).items}) if a.code in added else a
        for a in base.agencies
    ]
    for extra in added.values():
        if extra.name is None:
            raise ValueError(f"agency {extra.code} is not in {base.key}; give it a name")
        agencies.append(AgencyChecklist(code=extra.code, name=extra.name, items=extra.items))
    data = base.model_dump()
    data.update(
        variant=deep_dive.variant,
        title=deep_dive.title,
        source=f"{base.source}; deep dive: {deep_dive.source}",
        agencies=[a.model_dump() for a in agencies],
        child_lists=[c.model_dump() for c in (*base.child_lists, *deep_dive.child_lists)],
    )
    return ThemePolicy.model_validate(data)


def decide_scope(theme: ThemePolicy, agency: str, item_number: str) -> Verdict:
    """Whether `agency` may upload against `item_number` under this theme.

    An item nobody is asked for is unknown_item; another agency's item is not_for_agency.
    """
    found = theme.find_item(item_number)
    if found is None:
        return Verdict.reject(
            ReasonCode.unknown_item, detail=f"item {item_number} is not in {theme.key}"
        )
    owner, _item = found
    if owner.code != agency:
        return Verdict.reject(
            ReasonCode.not_for_agency,
            detail=f"item {item_number} is asked of {owner.code}, not {agency}",
        )
    return Verdict.proceed()


def area_for_item(theme: ThemePolicy, item_number: str) -> Area:
    """Health records go to the on-site area; everything else to the clean area."""
    found = theme.find_item(item_number)
    if found is not None and found[1].health_record:
        return Area.onsite
    return Area.clean
