"""The Classifier port over libmagic, with a look inside zip-based documents.

A file that starts as a zip is first inspected by portal.adapters.zip_containers (sizes,
compression ratios, entry count, names, central directory against local headers, nested
archives, XML entity declarations); if that finds a problem, nothing else reads the
members and the finding goes into the facts for `decide_file_type`. Only a zip that passes
is opened with zipfile to read its declarations.

libmagic names a Word or OpenDocument file only when the zip members come in the order
Microsoft Office or LibreOffice write them, and it cannot tell a .docx from a
macro-enabled .docm. So when the bytes start as a zip, the member list is read with
zipfile and the package's own declaration decides: [Content_Types].xml for Office Open
XML, the `mimetype` member or META-INF/manifest.xml for OpenDocument. The filename is
used for nothing but the extension.
"""

from __future__ import annotations

import errno
import re
import zipfile
import zlib
from pathlib import Path

import magic

from portal.adapters.zip_containers import inspect_zip
from portal.domain.containers import ContainerLimits
from portal.domain.file_types import FileFacts, extension_of

_ZIP_LOCAL_HEADER = b"PK\x03\x04"
_ENCRYPTED_FLAG = 0x1  # general purpose bit 0 of a zip entry: the member is encrypted
# A package declaration is a few kB; reading more would let a zip bomb in.
_MAX_DECLARATION_BYTES = 1 << 20
_MAX_DESCRIPTION = 200

_WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml"
_EXCEL = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_POWERPOINT = "application/vnd.openxmlformats-officedocument.presentationml"
# Main-part content type in [Content_Types].xml -> (MIME type, description), lowercase.
_OOXML_MAIN_PARTS: dict[str, tuple[str, str]] = {
    f"{_WORD}.document.main+xml": (f"{_WORD}.document", "Microsoft Word 2007+"),
    f"{_WORD}.template.main+xml": (f"{_WORD}.template", "Microsoft Word 2007+ template"),
    "application/vnd.ms-word.document.macroenabled.main+xml": (
        "application/vnd.ms-word.document.macroenabled.12",
        "Microsoft Word 2007+ macro-enabled document",
    ),
    "application/vnd.ms-word.template.macroenabledtemplate.main+xml": (
        "application/vnd.ms-word.template.macroenabled.12",
        "Microsoft Word 2007+ macro-enabled template",
    ),
    f"{_EXCEL}.sheet.main+xml": (f"{_EXCEL}.sheet", "Microsoft Excel 2007+"),
    f"{_EXCEL}.template.main+xml": (f"{_EXCEL}.template", "Microsoft Excel 2007+ template"),
    "application/vnd.ms-excel.sheet.macroenabled.main+xml": (
        "application/vnd.ms-excel.sheet.macroenabled.12",
        "Microsoft Excel 2007+ macro-enabled workbook",
    ),
    "application/vnd.ms-excel.template.macroenabled.main+xml": (
        "application/vnd.ms-excel.template.macroenabled.12",
        "Microsoft Excel 2007+ macro-enabled template",
    ),
    "application/vnd.ms-excel.addin.macroenabled.main+xml": (
        "application/vnd.ms-excel.addin.macroenabled.12",
        "Microsoft Excel 2007+ macro-enabled add-in",
    ),
    "application/vnd.ms-excel.sheet.binary.macroenabled.main": (
        "application/vnd.ms-excel.sheet.binary.macroenabled.12",
        "Microsoft Excel 2007+ binary workbook",
    ),
    f"{_POWERPOINT}.presentation.main+xml": (
        f"{_POWERPOINT}.presentation",
        "Microsoft PowerPoint 2007+",
    ),
    f"{_POWERPOINT}.slideshow.main+xml": (
        f"{_POWERPOINT}.slideshow",
        "Microsoft PowerPoint 2007+ slide show",
    ),
    f"{_POWERPOINT}.template.main+xml": (
        f"{_POWERPOINT}.template",
        "Microsoft PowerPoint 2007+ template",
    ),
    "application/vnd.ms-powerpoint.presentation.macroenabled.main+xml": (
        "application/vnd.ms-powerpoint.presentation.macroenabled.12",
        "Microsoft PowerPoint 2007+ macro-enabled presentation",
    ),
    "application/vnd.ms-powerpoint.slideshow.macroenabled.main+xml": (
        "application/vnd.ms-powerpoint.slideshow.macroenabled.12",
        "Microsoft PowerPoint 2007+ macro-enabled slide show",
    ),
    "application/vnd.ms-powerpoint.template.macroenabled.main+xml": (
        "application/vnd.ms-powerpoint.template.macroenabled.12",
        "Microsoft PowerPoint 2007+ macro-enabled template",
    ),
    "application/vnd.ms-powerpoint.addin.macroenabled.main+xml": (
        "application/vnd.ms-powerpoint.addin.macroenabled.12",
        "Microsoft PowerPoint 2007+ macro-enabled add-in",
    ),
}
_ODF_PREFIX = "application/vnd.oasis.opendocument."
_CONTENT_TYPE = re.compile(rb"""ContentType\s*=\s*["']([^"']+)["']""")
_MANIFEST_ENTRY = re.compile(rb"<(?:\w+:)?file-entry\b[^>]*>")
_ROOT_PATH = re.compile(rb"""full-path\s*=\s*["']/["']""")
_MEDIA_TYPE = re.compile(rb"""media-type\s*=\s*["']([^"']+)["']""")


class MagicClassifier:
    """Classifies files with libmagic (python-magic) and zipfile.

    Safe to share between threads: python-magic serialises calls on each libmagic handle.
    `container_limits` bound the work of inspecting a zip (the policy's limits, which
    `decide_file_type` applies again to the declared sizes).
    """

    def __init__(self, container_limits: ContainerLimits | None = None) -> None:
        self._mime = magic.Magic(mime=True)
        self._text = magic.Magic()
        self._limits = container_limits or ContainerLimits()

    def classify(self, path: Path, filename: str) -> FileFacts:
        """Describe the file at `path` from its bytes; `filename` gives only the extension.

        mime_type is libmagic's, lowercased, unless the file is a zip-based Office or
        OpenDocument file, when the package's declared type replaces it (so a .docm is
        never typed as a .docx, and a zip that only claims to be a document is typed
        application/zip). description is libmagic's first clause, which names the type
        without the author or title fields libmagic prints for some formats. A zip's
        members and their declared sizes are listed, and the first problem its inspection
        found is in container_finding (then no declaration was read).
        """
        real = path.resolve(strict=True)  # libmagic would describe a symlink, not its target
        size = real.stat().st_size
        mime_type = str(self._mime.from_file(str(real))).lower()
        description = _first_clause(str(self._text.from_file(str(real))))
        facts = FileFacts(
            filename=filename,
            extension=extension_of(filename),
            size_bytes=size,
            mime_type=mime_type,
            description=description,
            encrypted_container=mime_type == "application/encrypted"
            or description.startswith("CDFV2 Encrypted"),
        )
        if size >= len(_ZIP_LOCAL_HEADER) and _starts_with(real, _ZIP_LOCAL_HEADER):
            return _look_inside_zip(real, facts, self._limits)
        if _opens_as_zip(real):
            return facts.model_copy(update={"also_zip": True})
        return facts


def _opens_as_zip(path: Path) -> bool:
    """Whether a zip reader finds a zip with members in a file that does not start as one.

    zipfile looks for an end-of-central-directory record in the last 64 KiB and accepts
    data before the archive, so a zip appended to a PDF (or an image) opens; it also
    checks every central directory entry's signature, so chance bytes do not. Only the
    directory is read, never a member.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return len(archive.infolist()) > 0
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError):
        return False
    except OSError as error:
        if error.errno != errno.EINVAL:  # a damaged offset; any other OSError is the disk's
            raise
        return False


def _starts_with(path: Path, prefix: bytes) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(prefix)) == prefix


def _first_clause(description: str) -> str:
    return description.split(",", 1)[0].strip()[:_MAX_DESCRIPTION]


def _look_inside_zip(path: Path, facts: FileFacts, limits: ContainerLimits) -> FileFacts:
    """Refine the facts of a file that starts as a zip from its members and declarations."""
    inspection = inspect_zip(path, limits)
    facts = facts.model_copy(
        update={
            "container_members": inspection.names,
            "container_entries": inspection.entries,
            "container_finding": inspection.finding,
            "unreadable_container": inspection.finding is not None and inspection.finding.damaged,
        }
    )
    if inspection.finding is not None:
        return facts
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = tuple(info.filename for info in infos)
            any_encrypted = any(info.flag_bits & _ENCRYPTED_FLAG for info in infos)
            if "[Content_Types].xml" in names:
                declared = _read_member(archive, "[Content_Types].xml")
                refined = _ooxml_type(declared)
                encrypted = any_encrypted
            elif "mimetype" in names or "META-INF/manifest.xml" in names:
                manifest = (
                    _read_member(archive, "META-INF/manifest.xml")
                    if "META-INF/manifest.xml" in names
                    else b""
                )
                refined = _odf_type(archive, names, manifest)
                encrypted = any_encrypted or b"encryption-data" in manifest
            else:
                refined, encrypted = None, False
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, zlib.error):
        # A central directory that cannot be read, an unsupported compression method in a
        # declaration, or a declaration that does not inflate: the container is damaged.
        return facts.model_copy(update={"unreadable_container": True})
    except OSError as error:
        # zipfile seeks to offsets read from the file; a damaged offset makes the seek
        # itself fail with EINVAL. Any other OSError is the disk's, not the file's.
        if error.errno != errno.EINVAL:
            raise
        return facts.model_copy(update={"unreadable_container": True})
    if refined is None:
        if _claims_document(facts.mime_type):
            # libmagic guessed a document from the first member names alone, but the
            # package declares nothing of the kind: it is just a zip.
            return facts.model_copy(
                update={"mime_type": "application/zip", "description": "Zip archive data"}
            )
        return facts
    mime_type, description = refined
    return facts.model_copy(
        update={
            "mime_type": mime_type,
            "description": description,
            "encrypted_container": facts.encrypted_container or encrypted,
        }
    )


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """The first megabyte of a member; b"" if the member is encrypted and cannot be read."""
    if archive.getinfo(name).flag_bits & _ENCRYPTED_FLAG:
        return b""
    with archive.open(name) as member:
        return member.read(_MAX_DECLARATION_BYTES)


def _ooxml_type(declared: bytes) -> tuple[str, str] | None:
    kinds = {m.decode("ascii", "replace").strip().lower() for m in _CONTENT_TYPE.findall(declared)}
    known = [_OOXML_MAIN_PARTS[k] for k in sorted(kinds) if k in _OOXML_MAIN_PARTS]
    if not known:
        return None
    # Two main-part types in one package is not something Office writes; if one of them
    # is macro-enabled, that one is reported so the file cannot pass as the other.
    macro = [k for k in known if "macroenabled" in k[0]]
    return (macro or known)[0]


def _odf_type(
    archive: zipfile.ZipFile, names: tuple[str, ...], manifest: bytes
) -> tuple[str, str] | None:
    declared = b""
    if "mimetype" in names:
        declared = _read_member(archive, "mimetype")[:200].strip()
    if not declared.startswith(_ODF_PREFIX.encode()):
        for entry in _MANIFEST_ENTRY.findall(manifest):
            media = _MEDIA_TYPE.search(entry)
            if _ROOT_PATH.search(entry) and media:
                declared = media.group(1).strip()
                break
    mime_type = declared.decode("ascii", "replace").lower()
    if not mime_type.startswith(_ODF_PREFIX):
        return None
    kind = mime_type.removeprefix(_ODF_PREFIX).replace("-", " ")
    return mime_type, f"OpenDocument {kind.title()}"


def _claims_document(mime_type: str) -> bool:
    return mime_type.startswith(
        (_ODF_PREFIX, "application/vnd.openxmlformats-officedocument.", "application/vnd.ms-")
    )
