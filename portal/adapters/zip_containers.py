"""Looks inside zip-based uploads before any parser does: stdlib struct and zlib only.

`inspect_zip` reads the end-of-central-directory record (and its Zip64 form), every
central directory entry and every local file header itself, rather than trusting zipfile,
which believes the central directory and never looks at what lies between entries. In
this order, the first problem found ends the inspection (the rules are in
portal.domain.containers):

1. The directory: one end record that ends the file exactly (a comment may sit in it);
   no split archives; the number of entries within the limit before a single entry is
   read; the central directory exactly filling the space before the end record and
   parsing into exactly as many entries as the end record says.
2. A PDF header in the first kilobyte (a PDF/zip polyglot).
3. Member names: unsafe (absolute, '..', control or bidi characters) or duplicated.
4. Encrypted members; compression methods other than stored and deflate.
5. Local headers agree with the central directory (signature, name, method, encryption,
   CRC and sizes, or a data descriptor that agrees), and the entries tile the file from
   byte 0 to the central directory with no gap and no overlap: nothing hides between
   them, and no two entries share bytes (the overlapping-entry zip bomb).
6. The declared sizes within the limits (count, per member, total, compression ratio).
7. For a document package (and every embedded one), each member is inflated, bounded by
   its declared size, and must end exactly at its declared size, compressed size and
   CRC-32. While it inflates, its first bytes are checked for another archive, and an
   XML part's first 64 KiB for a DTD that declares entities or fetches a URL. A zip in an
   embedding folder (an Office chart's workbook) is inspected the same way, one level
   deep, within what is left of the limits; its members are listed as '<folder/name>/...'.

A plain zip that declares no package is not inflated: it will be refused as an archive
whatever it holds, so inflating it would be work for nothing.
"""

from __future__ import annotations

import contextlib
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from portal.domain.containers import (
    ARCHIVE_SNIFF_BYTES,
    XML_SNIFF_BYTES,
    ContainerEntry,
    ContainerFinding,
    ContainerInspection,
    ContainerLimits,
    ContainerProblem,
    archive_kind,
    check_limits,
    check_names,
    finding,
    in_embedding_folder,
    is_document_package,
    is_xml_part,
    printable,
    xml_declares_entities,
)

_EOCD = struct.Struct("<4sHHHHLLH")
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQHHLLQQQQ")
_CENTRAL = struct.Struct("<4sHHHHHHLLLHHHHHLL")
_LOCAL = struct.Struct("<4sHHHHHLLLHH")
_SIG_EOCD = b"PK\x05\x06"
_SIG_EOCD64_LOCATOR = b"PK\x06\x07"
_SIG_EOCD64 = b"PK\x06\x06"
_SIG_CENTRAL = b"PK\x01\x02"
_SIG_LOCAL = b"PK\x03\x04"
_SIG_DESCRIPTOR = b"PK\x07\x08"
_MAX_COMMENT = 0xFFFF
_ZIP64_TAG = 0x0001
_FLAG_ENCRYPTED = 0x0001
_FLAG_DESCRIPTOR = 0x0008
_FLAG_STRONG_ENCRYPTION = 0x0040
_FLAG_UTF8 = 0x0800
_STORED, _DEFLATED = 0, 8
_READ_CHUNK = 256 * 1024
_INFLATE_CHUNK = 1024 * 1024
_POLYGLOT_WINDOW = 1024  # PDF readers look for %PDF- within the first kilobyte


class _Found(Exception):
    def __init__(self, found: ContainerFinding) -> None:
        super().__init__(found.detail)
        self.finding = found


def _stop(problem: ContainerProblem, detail: str) -> _Found:
    return _Found(finding(problem, detail))


@dataclass
class _Entry:
    name: str
    raw_name: bytes
    flags: int
    method: int
    crc: int
    compressed: int
    uncompressed: int
    offset: int
    data_start: int = 0

    def sums(self) -> tuple[int, int, int]:
        return (self.crc, self.compressed, self.uncompressed)

    def declared(self, prefix: str) -> ContainerEntry:
        return ContainerEntry(
            name=prefix + self.name,
            compressed_size=self.compressed,
            uncompressed_size=self.uncompressed,
        )


def inspect_zip(path: Path, limits: ContainerLimits) -> ContainerInspection:
    """Inspect the zip at `path` within `limits`; never raises for what the bytes hold.

    Guarantees: no member is inflated past its declared size, no declared size past the
    limits, and nothing past the file; the inspection reads each byte of the file at most
    twice and is done before zipfile, openpyxl or libmagic look inside. The result lists
    the members (with embedded packages' members) and the first problem found, if any.
    OSError from the disk itself is raised.
    """
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        return _Inspector(handle, size, limits, prefix="", nested=False).run()


class _Inspector:
    def __init__(
        self, handle: BinaryIO, size: int, limits: ContainerLimits, *, prefix: str, nested: bool
    ) -> None:
        self._handle = handle
        self._size = size
        self._limits = limits
        self._prefix = prefix
        self._nested = nested
        self._entries: list[_Entry] = []
        self._embedded: list[ContainerEntry] = []

    def run(self) -> ContainerInspection:
        try:
            self._inspect()
        except _Found as found:
            return ContainerInspection(entries=self._declared(), finding=found.finding)
        return ContainerInspection(entries=self._declared())

    def _declared(self) -> tuple[ContainerEntry, ...]:
        return (*(e.declared(self._prefix) for e in self._entries), *self._embedded)

    def _inspect(self) -> None:
        count, cd_offset, cd_size = self._end_records()
        self._entries = self._central_directory(count, cd_offset, cd_size)
        names = [e.name for e in self._entries]
        if b"%PDF-" in self._read(0, min(self._size, _POLYGLOT_WINDOW)):
            raise _stop(ContainerProblem.polyglot, "the zip's first kilobyte also starts a PDF")
        found = check_names(names)
        if found:
            raise _Found(found)
        for entry in self._entries:
            if entry.flags & (_FLAG_ENCRYPTED | _FLAG_STRONG_ENCRYPTION) or entry.method == 99:
                raise _stop(
                    ContainerProblem.encrypted_entry,
                    f"member {printable(entry.name)!r} is encrypted",
                )
            if entry.method not in (_STORED, _DEFLATED):
                raise _stop(
                    ContainerProblem.unsupported_compression,
                    f"member {printable(entry.name)!r} uses compression method {entry.method}",
                )
            if entry.method == _STORED and entry.compressed != entry.uncompressed:
                raise _stop(
                    ContainerProblem.inconsistent_directory,
                    f"stored member {printable(entry.name)!r} has two different sizes",
                )
        self._check_layout(cd_offset)
        found = check_limits(self._declared(), self._limits)
        if found:
            raise _Found(found)
        if not self._nested and not is_document_package(names):
            return
        for entry in sorted(self._entries, key=lambda e: e.offset):
            self._inflate(entry)
        found = check_limits(self._declared(), self._limits)
        if found:
            raise _Found(found)

    # --- reading ------------------------------------------------------------------------

    def _read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0 or offset + length > self._size:
            raise _stop(
                ContainerProblem.inconsistent_directory,
                f"the directory points past the end of the file (offset {offset})",
            )
        self._handle.seek(offset)
        data = self._handle.read(length)
        if len(data) != length:
            raise _stop(ContainerProblem.unreadable, "the file ended while being read")
        return data

    def _end_records(self) -> tuple[int, int, int]:
        """(entries, central directory offset, size) from the end record(s)."""
        window = min(self._size, _EOCD.size + _MAX_COMMENT)
        tail = self._read(self._size - window, window)
        position = len(tail)
        while True:
            position = tail.rfind(_SIG_EOCD, 0, position)
            if position < 0:
                raise _stop(ContainerProblem.unreadable, "no end of central directory record")
            if position + _EOCD.size <= len(tail):
                record = _EOCD.unpack_from(tail, position)
                if position + _EOCD.size + record[7] == len(tail):
                    break
        eocd_at = self._size - window + position
        _sig, disk, cd_disk, on_disk, count, cd_size, cd_offset, _comment = record
        cd_end = eocd_at
        locator_at = eocd_at - _EOCD64_LOCATOR.size
        if locator_at >= 0 and self._read(locator_at, 4) == _SIG_EOCD64_LOCATOR:
            _s, _d, record64_at, _disks = _EOCD64_LOCATOR.unpack(
                self._read(locator_at, _EOCD64_LOCATOR.size)
            )
            record64 = _EOCD64.unpack(self._read(record64_at, _EOCD64.size))
            if record64[0] != _SIG_EOCD64 or record64_at + 12 + record64[1] != locator_at:
                raise _stop(ContainerProblem.inconsistent_directory, "a damaged Zip64 end record")
            _s64, _n, _v1, _v2, disk, cd_disk, on_disk, count, cd_size, cd_offset = record64
            cd_end = record64_at
        elif 0xFFFF in (count, on_disk) or 0xFFFFFFFF in (cd_size, cd_offset):
            raise _stop(ContainerProblem.unreadable, "a Zip64 archive without its Zip64 record")
        if disk or cd_disk or on_disk != count:
            raise _stop(ContainerProblem.unreadable, "an archive split over several disks")
        if count > self._limits.max_entries:
            raise _stop(
                ContainerProblem.too_many_entries,
                f"{count} members; at most {self._limits.max_entries} are accepted",
            )
        if cd_offset + cd_size != cd_end:
            raise _stop(
                ContainerProblem.inconsistent_directory,
                "the central directory does not end where the end record begins",
            )
        return count, cd_offset, cd_size

    def _central_directory(self, count: int, offset: int, size: int) -> list[_Entry]:
        directory = self._read(offset, size)
        entries: list[_Entry] = []
        at = 0
        for _ in range(count):
            if at + _CENTRAL.size > len(directory):
                raise _stop(ContainerProblem.inconsistent_directory, "the directory is cut short")
            fields = _CENTRAL.unpack_from(directory, at)
            (sig, _made, _need, flags, method, _t, _d, crc, csize, usize) = fields[:10]
            name_len, extra_len, comment_len, disk, _iattr, _eattr, local = fields[10:]
            if sig != _SIG_CENTRAL:
                raise _stop(ContainerProblem.inconsistent_directory, "a damaged directory entry")
            start = at + _CENTRAL.size
            end = start + name_len + extra_len + comment_len
            if end > len(directory):
                raise _stop(ContainerProblem.inconsistent_directory, "the directory is cut short")
            raw_name = directory[start : start + name_len]
            extra = directory[start + name_len : start + name_len + extra_len]
            usize, csize, local, disk = _apply_zip64(extra, usize, csize, local, disk)
            if disk:
                raise _stop(ContainerProblem.unreadable, "an archive split over several disks")
            entries.append(
                _Entry(
                    name=_decode_name(raw_name, flags),
                    raw_name=raw_name,
                    flags=flags,
                    method=method,
                    crc=crc,
                    compressed=csize,
                    uncompressed=usize,
                    offset=local,
                )
            )
            at = end
        if at != len(directory):
            raise _stop(
                ContainerProblem.inconsistent_directory,
                "the directory holds more than the end record counts",
            )
        return entries

    def _check_layout(self, cd_offset: int) -> None:
        """Every local header agrees with its directory entry; entries tile 0..cd_offset."""
        expected = 0
        for entry in sorted(self._entries, key=lambda e: e.offset):
            if entry.offset != expected:
                what = "overlaps the one before it" if entry.offset < expected else "has a gap"
                raise _stop(
                    ContainerProblem.inconsistent_directory,
                    f"member {printable(entry.name)!r} {what} (offset {entry.offset}, "
                    f"expected {expected})",
                )
            expected = self._local_header(entry, cd_offset)
        if expected != cd_offset:
            raise _stop(
                ContainerProblem.inconsistent_directory,
                "bytes sit between the last member and the central directory",
            )

    def _local_header(self, entry: _Entry, cd_offset: int) -> int:
        """Check `entry`'s local header (and data descriptor); return where the entry ends."""
        if entry.offset + _LOCAL.size > cd_offset:
            raise _mismatch(entry, "its local header lies inside the central directory")
        sig, _need, flags, method, _t, _d, crc, csize, usize, name_len, extra_len = _LOCAL.unpack(
            self._read(entry.offset, _LOCAL.size)
        )
        if sig != _SIG_LOCAL:
            raise _mismatch(entry, "no local header where the directory says")
        names_and_extra = self._read(entry.offset + _LOCAL.size, name_len + extra_len)
        if names_and_extra[:name_len] != entry.raw_name:
            raise _mismatch(entry, "its local header names another member")
        if method != entry.method or (flags ^ entry.flags) & (_FLAG_ENCRYPTED | _FLAG_DESCRIPTOR):
            raise _mismatch(entry, "its local header gives another method or flags")
        usize, csize, _o, _d = _apply_zip64(names_and_extra[name_len:], usize, csize, 0, 0)
        declared = (crc, csize, usize)
        if flags & _FLAG_DESCRIPTOR:
            if any(
                v not in (0, 0xFFFFFFFF, w) for v, w in zip(declared, entry.sums(), strict=True)
            ):
                raise _mismatch(entry, "its local header gives other sizes")
        elif declared != entry.sums():
            raise _mismatch(entry, "its local header gives other sizes or checksum")
        entry.data_start = entry.offset + _LOCAL.size + name_len + extra_len
        end = entry.data_start + entry.compressed
        if end > cd_offset:
            raise _mismatch(entry, "its data runs into the central directory")
        if flags & _FLAG_DESCRIPTOR:
            end += self._descriptor_length(entry, end, cd_offset)
        return end

    def _descriptor_length(self, entry: _Entry, at: int, cd_offset: int) -> int:
        window = self._read(at, min(24, cd_offset - at))
        signed = window.startswith(_SIG_DESCRIPTOR)
        body = window[4:] if signed else window
        for fmt in ("<LLL", "<LQQ"):
            length = struct.calcsize(fmt)
            if len(body) >= length and struct.unpack_from(fmt, body) == entry.sums():
                return length + (4 if signed else 0)
        raise _mismatch(entry, "its data descriptor disagrees with the directory")

    # --- inflating ----------------------------------------------------------------------

    def _inflate(self, entry: _Entry) -> None:
        with contextlib.ExitStack() as stack:
            spool = None
            if (
                not self._nested
                and in_embedding_folder(entry.name, self._limits)
                and entry.uncompressed <= self._limits.max_embedded_package_bytes
            ):
                spool = stack.enter_context(tempfile.TemporaryFile(prefix="jtai-embedded-"))
            head = self._inflate_into(entry, spool)
            kind = archive_kind(head[:ARCHIVE_SNIFF_BYTES])
            if kind is not None:
                if spool is None or kind != "zip":
                    raise _stop(
                        ContainerProblem.nested_archive,
                        f"member {printable(entry.name)!r} is a {kind} archive",
                    )
                self._inspect_embedded(entry, spool)
            if is_xml_part(entry.name) and xml_declares_entities(head):
                raise _stop(
                    ContainerProblem.xml_entities,
                    f"XML part {printable(entry.name)!r} declares entities or an external DTD",
                )

    def _inflate_into(self, entry: _Entry, spool: BinaryIO | None) -> bytes:
        """Inflate `entry`, checking size and CRC; return its first bytes."""
        keep = XML_SNIFF_BYTES if is_xml_part(entry.name) else ARCHIVE_SNIFF_BYTES
        head = bytearray()
        produced = 0
        crc = 0

        def take(out: bytes) -> None:
            nonlocal produced, crc
            produced += len(out)
            if produced > entry.uncompressed:
                raise _damaged(entry, "inflates past its declared size")
            crc = zlib.crc32(out, crc)
            if len(head) < keep:
                head.extend(out[: keep - len(head)])
            if spool is not None:
                spool.write(out)

        inflater = zlib.decompressobj(-15) if entry.method == _DEFLATED else None
        position, remaining = entry.data_start, entry.compressed
        try:
            while remaining:
                chunk = self._read(position, min(_READ_CHUNK, remaining))
                position += len(chunk)
                remaining -= len(chunk)
                if inflater is None:
                    take(chunk)
                    continue
                if inflater.eof:
                    raise _damaged(entry, "has data after the end of its compressed stream")
                data = chunk
                while data and not inflater.eof:
                    take(inflater.decompress(data, _INFLATE_CHUNK))
                    data = inflater.unconsumed_tail
            if inflater is not None:
                take(inflater.flush())
                if not inflater.eof or inflater.unused_data:
                    raise _damaged(entry, "does not end where its compressed size says")
        except zlib.error as error:
            raise _damaged(entry, f"does not inflate ({error})") from error
        if produced != entry.uncompressed or crc != entry.crc:
            raise _damaged(entry, "does not match its declared size and checksum")
        return bytes(head)

    def _inspect_embedded(self, entry: _Entry, spool: BinaryIO) -> None:
        outer = self._declared()
        left_entries = self._limits.max_entries - len(outer)
        left_bytes = self._limits.max_total_uncompressed_bytes - sum(
            e.uncompressed_size for e in outer
        )
        if left_entries < 1 or left_bytes < 1:
            raise _stop(
                ContainerProblem.too_large_unpacked,
                f"embedded package {printable(entry.name)!r} passes what is left of the limits",
            )
        limits = self._limits.model_copy(
            update={
                "max_entries": left_entries,
                "max_total_uncompressed_bytes": left_bytes,
                "max_entry_uncompressed_bytes": min(
                    left_bytes, self._limits.max_entry_uncompressed_bytes
                ),
            }
        )
        size = spool.seek(0, 2)
        inner = _Inspector(spool, size, limits, prefix=f"{entry.name}/", nested=True).run()
        if inner.finding is not None:
            raise _stop(
                inner.finding.problem,
                f"in embedded package {printable(entry.name)!r}: {inner.finding.detail}",
            )
        if not is_document_package(e.name.removeprefix(f"{entry.name}/") for e in inner.entries):
            raise _stop(
                ContainerProblem.nested_archive,
                f"member {printable(entry.name)!r} is a zip archive, not an Office package",
            )
        self._embedded.extend(inner.entries)


def _mismatch(entry: _Entry, what: str) -> _Found:
    return _stop(
        ContainerProblem.inconsistent_directory,
        f"member {printable(entry.name)!r}: {what}",
    )


def _damaged(entry: _Entry, what: str) -> _Found:
    return _stop(ContainerProblem.damaged_data, f"member {printable(entry.name)!r} {what}")


def _decode_name(raw: bytes, flags: int) -> str:
    if flags & _FLAG_UTF8:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise _stop(
                ContainerProblem.inconsistent_directory, "a member name is not valid UTF-8"
            ) from error
    return raw.decode("cp437")


def _apply_zip64(
    extra: bytes, usize: int, csize: int, offset: int, disk: int
) -> tuple[int, int, int, int]:
    """Replace the 0xFFFFFFFF placeholders with the Zip64 extra field's values.

    A disk number of 0xFFFF is left as it is (and refused as a split archive). Fewer than
    four bytes left at the end of the extra field are padding, as zipalign writes.
    """
    at = 0
    while at + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4 : at + 4 + length]
        if len(body) != length:
            raise _stop(ContainerProblem.inconsistent_directory, "a damaged extra field")
        if tag == _ZIP64_TAG:
            values = list(struct.unpack_from(f"<{length // 8}Q", body)) if length >= 8 else []
            fields = [usize, csize, offset]
            for index, value in enumerate(fields):
                if value == 0xFFFFFFFF:
                    if not values:
                        raise _stop(
                            ContainerProblem.inconsistent_directory, "a damaged Zip64 field"
                        )
                    fields[index] = values.pop(0)
            usize, csize, offset = fields
        at += 4 + length
    return usize, csize, offset, disk
