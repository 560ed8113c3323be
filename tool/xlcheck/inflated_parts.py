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
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from types import MappingProxyType
from typing import IO

#: The parts kept add up to at most this many bytes: a filled template unpacks to about 100 KB.
HELD_BYTES = 4 << 20
#: A part larger than this is never kept (the package check streams parts in chunks this size).
HELD_PART_BYTES = 1 << 20


class InflatedParts:
    """The entries of one zip archive, by the names the zip stores, inflated at most once while
    they fit in the budget."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        #: The archive itself, for readers of the entries not kept (and of their raw bytes).
        self.archive = archive
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
            data = self.archive.read(name)
            self.keep(name, data)
        return data

    def open(self, name: str) -> IO[bytes]:
        """The entry ``name`` as a stream: over the kept bytes, else inflated as it is read."""
        data = self._held.get(name)
        return io.BytesIO(data) if data is not None else self.archive.open(name)
