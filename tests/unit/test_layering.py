"""The layers keep to their places: read from the source's imports and from the wired
Container, so a shortcut between layers fails here rather than in review."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from portal.bootstrap import Container

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def _modules(package: str) -> list[Path]:
    return sorted((PORTAL / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, by absolute name (`from portal import web` counts as
    portal.web)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _offences(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(PORTAL.parent)} imports {name}"
        for path in _modules(package)
        for name in sorted(_imports(path))
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


@pytest.mark.parametrize(
    ("door", "other"), [("api", "portal.web"), ("web", "portal.api")], ids=["api", "web"]
)
def test_neither_door_imports_the_other(door: str, other: str) -> None:
    assert _offences(door, (other,)) == []


@pytest.mark.parametrize("door", ["api", "web"])
def test_the_doors_reach_adapters_only_through_the_container(door: str) -> None:
    assert _offences(door, ("portal.adapters",)) == []


def test_use_cases_know_nothing_of_http_the_doors_or_the_adapters() -> None:
    forbidden = ("fastapi", "starlette", "portal.api", "portal.web", "portal.http")
    assert _offences("services", (*forbidden, "portal.adapters")) == []


def test_importing_the_use_cases_loads_no_adapter() -> None:
    """What an import loads, not only what it names: a use case that imported the wired
    Container at run time would load every adapter (pikepdf, libmagic, SQLAlchemy...)."""
    modules = [f"portal.services.{path.stem}" for path in _modules("services")]
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('portal.adapters', "
        "'portal.bootstrap'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"


def test_the_shared_http_plumbing_belongs_to_neither_door() -> None:
    assert _offences("http", ("portal.api", "portal.web", "portal.adapters")) == []


def test_the_domain_imports_only_the_standard_library_and_pydantic() -> None:
    allowed_roots = {"portal", "pydantic", "__future__", *sys.stdlib_module_names}
    offences = [
        f"{path.relative_to(PORTAL.parent)} imports {name}"
        for path in _modules("domain")
        for name in sorted(_imports(path))
        if name.split(".")[0] not in allowed_roots
        or (name.startswith("portal.") and not name.startswith("portal.domain"))
    ]
    assert offences == []


def test_no_domain_type_is_defined_in_an_adapter() -> None:
    """Domain types are pydantic models; an adapter converts to and from them but defines
    none of its own (its rows are SQLAlchemy classes, its errors subclass domain ones)."""
    offences = []
    for path in _modules("adapters"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id == "BaseModel" for base in node.bases
            ):
                offences.append(f"{path.relative_to(PORTAL.parent)}: {node.name}")
    assert offences == []


def _is_protocol(kind: object) -> bool:
    return isinstance(kind, type) and bool(getattr(kind, "_is_protocol", False))


def _is_value(kind: object) -> bool:
    """Settings, policies and other frozen domain values are data, not collaborators."""
    return (
        isinstance(kind, type)
        and issubclass(kind, BaseModel)
        and kind.__module__.startswith(("portal.domain.", "portal.settings"))
    )


def _parts(kind: object) -> list[object]:
    """The types a field's annotation is made of (X | None -> X; dict[str, X] -> X)."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        return [p for arg in typing.get_args(kind) if arg is not type(None) for p in _parts(arg)]
    if origin is dict:
        return _parts(typing.get_args(kind)[1])
    return [kind]


def test_the_containers_collaborators_are_ports() -> None:
    hints = typing.get_type_hints(Container)
    offences = [
        f"Container.{field.name}: {part!r}"
        for field in dataclasses.fields(Container)
        for part in _parts(hints[field.name])
        if not (_is_protocol(part) or _is_value(part))
    ]
    assert offences == []
