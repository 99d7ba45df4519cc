"""Reading policy files from disk into the domain's frozen policy models."""

from __future__ import annotations

from pathlib import Path

import yaml  # type: ignore[import-untyped,unused-ignore]
from pydantic import ValidationError

from portal.domain.chase import ChasePolicy
from portal.domain.checklist import DeepDivePolicy, ThemePolicy, with_deep_dive
from portal.domain.errors import PortalError
from portal.domain.file_types import FileTypePolicy
from portal.domain.retention import RetentionPolicy


class PolicyFileError(PortalError):
    """A policy file is missing, is not YAML, or does not match its model. Names the file."""


def _read_yaml(path: Path) -> tuple[object, yaml.Node | None]:
    """The file's data and its node tree (for line numbers), or PolicyFileError."""
    try:
        text = path.read_text(encoding="utf-8")
        return yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyFileError(f"{path}: cannot be read: {error}") from error
    except yaml.YAMLError as error:
        raise PolicyFileError(f"{path}: not valid YAML: {error}") from error


def _line_of(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the deepest node along `loc` that exists in the file."""
    node, line = root, None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line


def _describe(path: Path, root: yaml.Node | None, error: ValidationError, what: str) -> str:
    """One line per problem: file, line, field path and what is wrong."""
    lines = [f"{path}: does not match {what}:"]
    for problem in error.errors():
        loc = tuple(problem["loc"])
        field = ".".join(str(p) for p in loc) or "(top level)"
        line = _line_of(root, loc)
        where = f"{path}:{line}" if line else str(path)
        lines.append(f"  {where}: {field}: {problem['msg']}")
    return "\n".join(lines)


def load_file_type_policy(path: Path) -> FileTypePolicy:
    """Load and validate the file-type policy at `path` (e.g. policies/file_types.yaml).

    Returns a frozen FileTypePolicy, or raises PolicyFileError naming the file, the line and
    the field of each problem.
    """
    data, root = _read_yaml(path)
    try:
        return FileTypePolicy.model_validate(data)
    except ValidationError as error:
        raise PolicyFileError(_describe(path, root, error, "the file-type policy")) from error


def load_retention_policy(path: Path) -> RetentionPolicy:
    """Load and validate the retention policy at `path` (e.g. policies/retention.yaml).

    Returns a frozen RetentionPolicy with a rule for every retention class, or raises
    PolicyFileError naming the file, the line and the field of each problem.
    """
    data, root = _read_yaml(path)
    try:
        return RetentionPolicy.model_validate(data)
    except ValidationError as error:
        raise PolicyFileError(_describe(path, root, error, "the retention policy")) from error


def load_themes(directory: Path, deep_dives: Path | None = None) -> dict[str, ThemePolicy]:
    """Load every theme variant in `directory` (*.yaml), keyed by "theme/variant", and each
    deep-dive file in `deep_dives` as a further variant of the theme it extends.

    Raises PolicyFileError naming the file, line and field if one is malformed, or the file
    if two define the same theme variant or a deep dive names an unknown base.
    """
    themes: dict[str, ThemePolicy] = {}
    for path in sorted(directory.glob("*.yaml")):
        data, root = _read_yaml(path)
        try:
            theme = ThemePolicy.model_validate(data)
        except ValidationError as error:
            raise PolicyFileError(_describe(path, root, error, "the theme policy")) from error
        if theme.key in themes:
            raise PolicyFileError(f"{path}: theme variant {theme.key} is defined twice")
        themes[theme.key] = theme
    if not themes:
        raise PolicyFileError(f"{directory}: no theme policy files (*.yaml) found")
    for path in sorted(deep_dives.glob("*.yaml")) if deep_dives and deep_dives.is_dir() else ():
        data, root = _read_yaml(path)
        try:
            deep_dive = DeepDivePolicy.model_validate(data)
        except ValidationError as error:
            raise PolicyFileError(_describe(path, root, error, "a deep-dive policy")) from error
        base = themes.get(deep_dive.base)
        if base is None:
            raise PolicyFileError(
                f"{path}: base theme {deep_dive.base!r} is not loaded; "
                f"known: {', '.join(sorted(themes))}"
            )
        try:
            theme = with_deep_dive(base, deep_dive)
        except (ValidationError, ValueError) as error:
            raise PolicyFileError(f"{path}: cannot be added to {base.key}: {error}") from error
        if theme.key in themes:
            raise PolicyFileError(f"{path}: theme variant {theme.key} is defined twice")
        themes[theme.key] = theme
    return themes


def load_chase_policy(path: Path) -> ChasePolicy:
    """Load and validate the chase policy at `path` (e.g. policies/chasing.yaml).

    Returns a frozen ChasePolicy, or raises PolicyFileError naming the file, the line and
    the field of each problem.
    """
    data, root = _read_yaml(path)
    try:
        return ChasePolicy.model_validate(data)
    except ValidationError as error:
        raise PolicyFileError(_describe(path, root, error, "the chase policy")) from error
