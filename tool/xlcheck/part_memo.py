"""A batch worker's bounded memory of what it read from package parts, by what it read it from.

The workbooks of one template, saved by one app, share most of their parts byte for byte (styles,
relationships, the workbook part, a sheet's validations and page set-up), so a worker reads each
once. Entries are kept only for parts up to a size, and the memory is emptied when it is full:
a batch mixes a few templates and app versions, not hundreds.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

_Key = TypeVar("_Key", bound=Hashable)
_Read = TypeVar("_Read")


class PartMemo(Generic[_Key, _Read]):
    """What was read, by a key holding the part's bytes; what is kept is only ever read."""

    def __init__(self, *, limit: int, largest: int) -> None:
        self.limit = limit
        self.largest = largest
        self._known: dict[_Key, _Read] = {}

    def get(self, key: _Key) -> _Read | None:
        return self._known.get(key)

    def keep(self, key: _Key, read: _Read, size: int) -> None:
        """Remember ``read`` under ``key``, when the part it came from has at most ``largest``
        bytes (``size``)."""
        if size <= self.largest:
            if len(self._known) >= self.limit:
                self._known.clear()
            self._known[key] = read

    def recall(self, key: _Key, make: Callable[[], _Read], size: Callable[[_Read], int]) -> _Read:
        """What is remembered under ``key``, else what ``make`` makes, kept (``size`` gives the
        size of the part it came from)."""
        read = self._known.get(key)
        if read is None:
            read = make()
            self.keep(key, read, size(read))
        return read

    def __len__(self) -> int:
        return len(self._known)

    def __iter__(self) -> Iterator[_Key]:
        return iter(self._known)
