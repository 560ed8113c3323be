"""File names that never collide within one folder during a run (two 自评表.xlsx stay two files)."""

from __future__ import annotations

from pathlib import Path


class NameAllocator:
    """Hands out distinct file names per folder: ``自评表.xlsx``, then ``自评表-2.xlsx``, ...

    Names are compared case-insensitively, since Windows and macOS file systems do.
    """

    def __init__(self) -> None:
        self._used: dict[Path, set[str]] = {}

    def allocate(self, folder: Path, stem: str, suffix: str) -> Path:
        """A path in ``folder`` named ``stem + suffix``, numbered if taken earlier in this run."""
        used = self._used.setdefault(folder.resolve(), set())
        number = 1
        while True:
            name = f"{stem}{suffix}" if number == 1 else f"{stem}-{number}{suffix}"
            if name.casefold() not in used:
                used.add(name.casefold())
                return folder / name
            number += 1
