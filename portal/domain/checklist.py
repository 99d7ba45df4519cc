"""A theme's checklist: which agencies are asked for which numbered Annex A items.

Loaded from policies/themes/*.yaml (see portal/policies.py) into these frozen models.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from portal.domain.documents import Area, Verdict
from portal.domain.reasons import ReasonCode


class AnnexAItem(BaseModel):
    """One numbered item of Annex A, as printed in the guidance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str = Field(pattern=r"^\d+\.\d+$")
    title: str = Field(min_length=1)
    description: str = ""
    health_record: bool = False
    optional: bool = False


class AgencyChecklist(BaseModel):
    """The items one agency is asked for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    items: tuple[AnnexAItem, ...]

    @model_validator(mode="after")
    def _numbers_unique(self) -> AgencyChecklist:
        numbers = [item.number for item in self.items]
        duplicated = sorted({n for n in numbers if numbers.count(n) > 1})
        if duplicated:
            raise ValueError(f"item numbers repeated for agency {self.code}: {duplicated}")
        return self


class ThemePolicy(BaseModel):
    """Everything a theme variant asks of the agencies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    theme: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    variant: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    source: str
    agencies: tuple[AgencyChecklist, ...]

    @property
    def key(self) -> str:
        """The name an inspection uses to say which theme variant it follows."""
        return f"{self.theme}/{self.variant}"

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
