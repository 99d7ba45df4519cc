"""Reading policy files from disk into the domain's frozen policy models."""

from __future__ import annotations

from pathlib import Path

import yaml  # type: ignore[import-untyped,unused-ignore]
from pydantic import ValidationError

from portal.domain.checklist import ThemePolicy
from portal.domain.errors import PortalError
from portal.domain.file_types import FileTypePolicy


class PolicyFileError(PortalError):
    """A policy file is missing, is not YAML, or does not match its model. Names the file."""


def load_file_type_policy(path: Path) -> FileTypePolicy:
    """Load and validate the file-type policy at `path` (e.g. policies/file_types.yaml).

    Returns a frozen FileTypePolicy, or raises PolicyFileError whose message starts with
    the file's path and says what is wrong.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyFileError(f"{path}: cannot be read: {error}") from error
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PolicyFileError(f"{path}: not valid YAML: {error}") from error
    try:
        return FileTypePolicy.model_validate(data)
    except ValidationError as error:
        raise PolicyFileError(f"{path}: does not match the file-type policy: {error}") from error


def load_themes(directory: Path) -> dict[str, ThemePolicy]:
    """Load every theme variant in `directory` (*.yaml), keyed by "theme/variant".

    Raises PolicyFileError naming the file if one is malformed or two share a key.
    """
    themes: dict[str, ThemePolicy] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise PolicyFileError(f"{path}: cannot be read as YAML: {error}") from error
        try:
            theme = ThemePolicy.model_validate(data)
        except ValidationError as error:
            raise PolicyFileError(f"{path}: does not match the theme policy: {error}") from error
        if theme.key in themes:
            raise PolicyFileError(f"{path}: theme variant {theme.key} is defined twice")
        themes[theme.key] = theme
    if not themes:
        raise PolicyFileError(f"{directory}: no theme policy files (*.yaml) found")
    return themes
