"""A zip package copied entry by entry: untouched entries keep their compressed bytes and CRC.

``zipfile`` can only write an entry by compressing it again, which changes the bytes of every
part the annotated copy has no reason to touch (and costs time). So this module writes the few
dozen lines of zip it needs: local headers, raw data, central directory, end record. Entries are
read with ``zipfile`` (its central-directory parser handles zip64 and odd writers); their raw
data is sliced from the source bytes. The package check's archive is reused when it is given,
and the entries it already inflated are taken from it rather than inflated again.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from typing import IO

from xlcheck.inflated_parts import InflatedParts, local_header
from xlcheck.part_memo import PartMemo
from xlcheck.records import record

_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_CENTRAL_HEADER = struct.Struct("<4s6H3L5H2L")
_END_RECORD = struct.Struct("<4s4H2LH")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_END_SIGNATURE = b"PK\x05\x06"
#: Flag bit 3: sizes and CRC follow the data in a descriptor (never written here: sizes are known).
_DATA_DESCRIPTOR = 0x08
#: Flag bit 11: the entry name is UTF-8.
_UTF8_NAME = 0x800
#: Excel writes every entry with this DOS date and time (1980-01-01 00:00); so do we for new parts,
#: which makes the copy of one input always the same bytes.
_DOS_DATE_1980 = (0 << 9) | (1 << 5) | 1
_VERSION = 20
_MAX_ENTRIES = 0xFFFF
_MAX_SIZE = 0xFFFFFFFF


class DamagedPackageError(Exception):
    """The zip package cannot be copied (a header or size that does not add up)."""


@record
class Entry:
    """One entry of the copy: either raw bytes from the source or new content to compress."""

    name: str
    #: The compressed bytes exactly as stored in the source (``method`` says how), or None for new content.
    raw: bytes | None
    method: int
    crc: int
    compressed_size: int
    size: int
    dos_time: int = 0
    dos_date: int = _DOS_DATE_1980
    external_attributes: int = 0


#: New content as stored (method, bytes, CRC), by the content: the copies of one template's
#: workbooks rewrite their styles, workbook part, its relationships and the content types to the
#: same bytes, so a batch worker deflates each once (1.0 M instructions a copy, callgrind).
_STORED: PartMemo[bytes, tuple[int, bytes, int]] = PartMemo(limit=32, largest=1 << 15)


def _stored(content: bytes) -> tuple[int, bytes, int]:
    """How ``content`` is stored: deflated, or as it is when that is not smaller; with its CRC."""
    # Level 1: the parts of the example's annotated copy deflate to 34.8 KB in 1.5 ms, against
    # 30.5 KB in 2.8 ms at the default 6; a batch writes a copy of every workbook.
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    deflated = packer.compress(content) + packer.flush()
    crc = zlib.crc32(content)
    if len(deflated) < len(content):
        return zipfile.ZIP_DEFLATED, deflated, crc
    return zipfile.ZIP_STORED, content, crc


def new_entry(name: str, content: bytes) -> Entry:
    """An entry holding ``content``, deflated (stored when that is not smaller)."""
    stored = _STORED.get(content)
    if stored is None:
        stored = _stored(content)
        _STORED.keep(content, stored, len(content))
    method, data, crc = stored
    return Entry(
        name=name,
        raw=data,
        method=method,
        crc=crc,
        compressed_size=len(data),
        size=len(content),
    )


#: What reading a damaged entry raises (a bad header, a bad CRC, a broken deflate stream).
_INFLATE_FAILURES = (
    zipfile.BadZipFile,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    zlib.error,
)


class SourcePackage:
    """The entries of a zip package held in memory, by name ('/'-separated, as readers expect).

    ``parts``, the package check's archive over the same ``data`` with the entries it inflated,
    saves reading the central directory again and inflating those entries again.
    """

    def __init__(self, data: bytes, parts: InflatedParts | None = None) -> None:
        self.data = data
        self._held: Mapping[str, bytes] = parts.held if parts is not None else {}
        try:
            self._archive = (
                parts.archive if parts is not None else zipfile.ZipFile(io.BytesIO(data))
            )
            infos = self._archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
            raise DamagedPackageError(str(exc)) from exc
        #: Normalised name → the entry's ZipInfo. Some tools write '\\' in names; the copy uses '/'.
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            self.infos.setdefault(info.filename.replace("\\", "/"), info)

    @property
    def names(self) -> list[str]:
        return list(self.infos)

    def __contains__(self, name: str) -> bool:
        return name in self.infos

    def read(self, name: str) -> bytes:
        """The uncompressed content of an entry (its CRC checked by ``zipfile``)."""
        info = self.infos[name]
        held = self._held.get(info.filename)
        if held is not None:
            return held
        try:
            return self._archive.read(info)
        except _INFLATE_FAILURES as exc:
            raise DamagedPackageError(f"{name}: {exc}") from exc

    def _open(self, info: zipfile.ZipInfo) -> IO[bytes]:
        held = self._held.get(info.filename)
        return io.BytesIO(held) if held is not None else self._archive.open(info)

    def head(self, name: str, until: re.Pattern[bytes], limit: int = 1 << 16) -> bytes:
        """An entry's first bytes, inflated only as far as ``until`` first matches (or ``limit``
        bytes, or the end): a sheet's view, without inflating its cells."""
        data = b""
        try:
            with self._open(self.infos[name]) as stream:
                while len(data) < limit and (chunk := stream.read(4096)):
                    data += chunk
                    if until.search(data, max(len(data) - len(chunk) - 64, 0)):
                        break
        except _INFLATE_FAILURES as exc:
            raise DamagedPackageError(f"{name}: {exc}") from exc
        return data

    def raw_entry(self, name: str) -> Entry:
        """The entry as stored: its compressed bytes sliced from the source, CRC and sizes as they are."""
        info = self.infos[name]
        header = local_header(self.data, info.header_offset)
        if header is None:
            raise DamagedPackageError(f"{name}: no local header at {info.header_offset}")
        start = header.data_start
        end = start + info.compress_size
        if end > len(self.data):
            raise DamagedPackageError(f"{name}: data runs past the end of the file")
        dos_date, dos_time = _dos_date_time(info.date_time)
        return Entry(
            name=name,
            raw=self.data[start:end],
            method=info.compress_type,
            crc=info.CRC,
            compressed_size=info.compress_size,
            size=info.file_size,
            dos_time=dos_time,
            dos_date=dos_date,
            external_attributes=info.external_attr,
        )


def _dos_date_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    year = min(max(year, 1980), 2107)
    return ((year - 1980) << 9) | (month << 5) | day, (hour << 11) | (minute << 5) | (second // 2)


def write_package(entries: Iterable[Entry]) -> bytes:
    """A zip file of ``entries`` in order: raw data copied as it is, no data descriptors, no zip64.

    Raises:
        DamagedPackageError: too many entries or an entry too large for a plain zip (the package
            check refuses such inputs long before this).
    """
    body = bytearray()
    directory = bytearray()
    count = 0
    for entry in entries:
        if entry.raw is None:
            raise ValueError(f"{entry.name}: no data")
        if entry.compressed_size > _MAX_SIZE or entry.size > _MAX_SIZE or len(body) > _MAX_SIZE:
            raise DamagedPackageError(f"{entry.name}: too large for a zip without zip64")
        name = entry.name.encode("utf-8")
        flags = 0 if entry.name.isascii() else _UTF8_NAME
        offset = len(body)
        body += _LOCAL_HEADER.pack(
            _LOCAL_SIGNATURE,
            _VERSION,
            flags,
            entry.method,
            entry.dos_time,
            entry.dos_date,
            entry.crc,
            entry.compressed_size,
            entry.size,
            len(name),
            0,
        )
        body += name
        body += entry.raw
        directory += _CENTRAL_HEADER.pack(
            _CENTRAL_SIGNATURE,
            _VERSION,
            _VERSION,
            flags,
            entry.method,
            entry.dos_time,
            entry.dos_date,
            entry.crc,
            entry.compressed_size,
            entry.size,
            len(name),
            0,
            0,
            0,
            0,
            entry.external_attributes,
            offset,
        )
        directory += name
        count += 1
    if count > _MAX_ENTRIES or len(body) + len(directory) > _MAX_SIZE:
        raise DamagedPackageError("too many or too large entries for a zip without zip64")
    end = _END_RECORD.pack(_END_SIGNATURE, 0, 0, count, count, len(directory), len(body), 0)
    return bytes(body + directory + end)
