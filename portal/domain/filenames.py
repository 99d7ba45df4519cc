"""The name an upload is known by: what the agency called it, made harmless to show.

The portal never uses an uploaded filename as a path (objects are stored under
"<inspection>/<document id>"), but the name is shown in the API, in mail subjects and in
Content-Disposition headers, and its extension is checked against the contents. So the
name is neutralised once, when the upload is received, by `neutralise_filename`.
"""

from __future__ import annotations

import re
import unicodedata

MAX_FILENAME_LENGTH = 150
"""Characters in a neutralised name (the database keeps 255)."""
FALLBACK_FILENAME = "upload"

_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*]')
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$", "clock$"}
    | {f"com{n}" for n in "123456789¹²³"}
    | {f"lpt{n}" for n in "123456789¹²³"}
)
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,10}")


def neutralise_filename(raw: str | None, max_length: int = MAX_FILENAME_LENGTH) -> str:
    """The uploaded filename as the portal keeps and shows it.

    Guarantees, whatever `raw` holds: the result is non-empty, at most `max_length`
    characters, NFC-normalised, and holds no path separator ('/' or '\\'), no control,
    format (bidi overrides such as U+202E, zero-width), surrogate, private-use or
    unassigned character, no line or paragraph separator, none of <>:"|?* and no NUL; it
    neither starts nor ends with a space or a dot, and is not a Windows device name (CON,
    NUL, COM1 ... get a leading '_'). Only the last path segment of `raw` is kept (as
    browsers send it). Any run of whitespace (tab, CR, LF included) becomes one space.
    When the name must be shortened, its extension (up to 10 letters and digits) is kept.
    An empty result is FALLBACK_FILENAME. Idempotent: neutralising a neutralised name
    changes nothing.
    """
    if max_length < len(FALLBACK_FILENAME):
        raise ValueError(f"max_length must be at least {len(FALLBACK_FILENAME)}")
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(_visible(ch) for ch in name)
    name = _WINDOWS_FORBIDDEN.sub("_", name)
    name = re.sub(r" {2,}", " ", name).strip(" .")
    stem = name.split(".", 1)[0].rstrip(" ").casefold()
    if stem in _WINDOWS_DEVICES:
        name = "_" + name
    name = _shorten(name, max_length)
    return name or FALLBACK_FILENAME


def _visible(ch: str) -> str:
    if ch.isspace():  # tab, CR, LF, line separators and every Unicode space
        return " "
    return "" if unicodedata.category(ch) in _INVISIBLE else ch


def _shorten(name: str, max_length: int) -> str:
    if len(name) <= max_length:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and _EXTENSION.fullmatch(extension) and len(extension) + 2 <= max_length:
        kept = stem[: max_length - len(extension) - 1].rstrip(" .")
        if kept:
            return f"{kept}.{extension}"
    return name[:max_length].rstrip(" .")
