"""A zip package's parts, each inflated at most once: the small ones kept, within a byte budget.

The package check streams every part through zlib (``package_parts.scan_parts``) and parses the
small ones (``package_xml``); the sheet scan and the annotator then need many of the same parts.
``InflatedParts`` keeps the bytes of a part read whole, while the kept parts add up to at most
``HELD_BYTES``, and hands them to later readers instead of inflating the entry again. A part
larger than ``HELD_PART_BYTES``, or past the budget, is not kept: its readers stream it from the
zip as before, so memory stays bounded whatever the package holds.

Kept bytes are exactly what the entry inflates to, its CRC checked on the way (a damaged entry
raises where it is first read, as before, and is never kept). A reader parses them as it would
parse the entry: hardened parsers and all.

A small entry is inflated straight from the file's bytes (``compressed``, ``inflate``), with
every check ``ZipFile.open`` and its reads make: opening a ``ZipExtFile`` and reading it through
its buffers took 0.96 M instructions a workbook of the rate set, two thirds of what zlib itself
takes. An entry that does not pass them all goes through ``zipfile``, which raises what it
always raised.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import IO, NamedTuple

#: The parts kept add up to at most this many bytes: a filled template unpacks to about 100 KB.
HELD_BYTES = 4 << 20
#: A part larger than this is never kept (the package check streams parts in chunks this size).
HELD_PART_BYTES = 1 << 20

#: A local file header, as ``zipfile`` reads it (``structFileHeader``).
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"
#: Flags with which ``ZipFile.open`` refuses an entry: encrypted, compressed patched data,
#: strong encryption.
_UNREADABLE_FLAGS = 0x1 | 0x20 | 0x40
_UTF8_NAME_FLAG = 0x800


class LocalHeader(NamedTuple):
    """An entry's local file header: its flags, its name as stored, where its bytes start."""

    flags: int
    name: bytes
    data_start: int


def local_header(data: bytes, offset: int) -> LocalHeader | None:
    """The local file header at ``offset`` of a zip file's bytes, or None when there is none."""
    header = data[offset : offset + _LOCAL_HEADER.size] if offset >= 0 else b""
    if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
        return None
    _, _, _, flags, *_, name_length, extra_length = _LOCAL_HEADER.unpack(header)
    start = offset + _LOCAL_HEADER.size
    return LocalHeader(flags, data[start : start + name_length], start + name_length + extra_length)


class InflatedParts:
    """The entries of one zip archive, by the names the zip stores, inflated at most once while
    they fit in the budget."""

    def __init__(self, archive: zipfile.ZipFile, data: bytes) -> None:
        #: The archive itself, for readers of the entries not kept (and of their raw bytes).
        self.archive = archive
        #: The bytes the archive reads.
        self._data = data
        self._held: dict[str, bytes] = {}
        self._room = HELD_BYTES

    @property
    def held(self) -> Mapping[str, bytes]:
        """Entry name (as stored) → its bytes, for the parts kept so far (read-only)."""
        return MappingProxyType(self._held)

    def get(self, name: str) -> bytes | None:
        """The kept bytes of the entry ``name``, or None when it is not kept."""
        return self._held.get(name)

    def keep(self, name: str, data: bytes) -> None:
        """Keep ``data``, the whole of the entry ``name`` as inflated and checked, if it fits."""
        size = len(data)
        if size <= HELD_PART_BYTES and size <= self._room and name not in self._held:
            self._held[name] = data
            self._room -= size

    def read(self, name: str) -> bytes:
        """The whole entry ``name``: kept bytes, else inflated (and kept if it fits).

        Raises:
            KeyError: no such entry.
            zipfile.BadZipFile, zlib.error, EOFError...: a damaged entry, as ``ZipFile.read``.
        """
        data = self._held.get(name)
        if data is None:
            info = self.archive.getinfo(name)
            compressed = self.compressed(info)
            data = self.inflate(info, compressed) if compressed is not None else None
            if data is None:
                data = self.archive.read(info)
            self.keep(name, data)
        return data

    def compressed(self, info: zipfile.ZipInfo) -> bytes | None:
        """The entry's compressed bytes, when ``inflate`` may take it: stored or deflated, at
        most ``HELD_PART_BYTES`` either way, and with a local header ``ZipFile.open`` accepts.
        None otherwise."""
        if (
            info.file_size > HELD_PART_BYTES
            or info.compress_size > HELD_PART_BYTES
            or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
            or info.flag_bits & _UNREADABLE_FLAGS
            or (header := local_header(self._data, info.header_offset)) is None
        ):
            return None
        try:
            codec = "utf-8" if header.flags & _UTF8_NAME_FLAG else "cp437"
            if header.name.decode(codec) != info.orig_filename:
                return None
        except UnicodeDecodeError:
            return None
        start = header.data_start
        compressed = self._data[start : start + info.compress_size]
        return compressed if len(compressed) == info.compress_size else None

    @staticmethod
    def inflate(info: zipfile.ZipInfo, compressed: bytes) -> bytes | None:
        """The entry's bytes from its ``compressed`` ones, when ``zipfile`` would read exactly
        these without an error: the whole stream, of the declared size, with the declared CRC.
        None otherwise (``zipfile`` then reads the entry, or raises as it always has)."""
        if info.compress_type == zipfile.ZIP_STORED:
            data = compressed if info.compress_size == info.file_size else None
        else:
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            try:
                # One byte more than declared: enough to tell a stream longer than its size.
                data = inflater.decompress(compressed, info.file_size + 1)
            except zlib.error:
                return None
            if not inflater.eof or len(data) != info.file_size:
                return None
        if data is None or zlib.crc32(data) != info.CRC:
            return None
        return data

    def open(self, name: str) -> IO[bytes]:
        """The entry ``name`` as a stream: over the kept bytes, else inflated as it is read."""
        data = self._held.get(name)
        return io.BytesIO(data) if data is not None else self.archive.open(name)
