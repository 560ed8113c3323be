"""File names that never collide: within a run (two 自评表.xlsx stay two files) and between runs.

A name given by a mail's sender is made safe for every file system first (no separators, no
control characters, short enough for the 255-byte limit once ``-2.checked.xlsx`` is added). In
a folder two runs may share, a name is *reserved* by creating it exclusively: whoever creates
it owns it, and the other run takes the next number, so two runs never write one file.

On Linux a reserved name is a hard link to one empty file without a name of its own
(``O_TMPFILE``), made once per folder: linking a name allocates no inode, and creating one did
cost a batch 0.2 to 1 ms of system time a copy on ext4 (20 µs to link). Every reserved file is
only ever replaced whole (``write_output`` renames its new file over it) or removed while still
empty (``release``), never written into, so sharing one empty file is safe; elsewhere, or where
a link fails, each name is created on its own as before.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import weakref
from collections.abc import Iterable
from pathlib import Path

#: Longest file name (in bytes of the file system's encoding) on Linux, macOS and Windows.
NAME_MAX_BYTES = 255
#: Longest name xlcheck gives a file: room is left for the temporary name a writer puts beside
#: it while writing (``.<name>.XXXXXXXX.tmp``), which must fit the limit too.
GIVEN_NAME_MAX_BYTES = NAME_MAX_BYTES - 15
#: Characters never put in a file name: separators, what Windows forbids, control characters.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|\u202a-\u202e\u2066-\u2069\ud800-\udfff]')
#: How many numbered names are tried before a folder is called full.
_MAX_NUMBER = 100_000


class NameUnavailableError(OSError):
    """No free name could be reserved in a folder."""


def safe_file_name(name: str, default: str = "attachment") -> str:
    """``name`` made into one file name any file system takes: unsafe characters become ``_``."""
    cleaned = _UNSAFE.sub("_", name).strip().strip(".")  # Windows drops trailing dots and spaces
    return cleaned or default


def _byte_length(text: str) -> int:
    return len(os.fsencode(text))


def fitted_name(stem: str, suffix: str, number: int = 1) -> str:
    """``stem[-number]suffix``, the stem shortened (whole characters) to fit
    ``GIVEN_NAME_MAX_BYTES``."""
    tail = (f"-{number}" if number > 1 else "") + suffix
    room = GIVEN_NAME_MAX_BYTES - _byte_length(tail)
    if _byte_length(stem) > room:
        while stem and _byte_length(stem) > room - _byte_length("…"):
            stem = stem[:-1]
        stem += "…"
    return stem + tail


def create_exclusively(path: Path) -> None:
    """Create ``path`` as an empty file if no file, folder or symlink has that name (umask mode).

    Raises:
        FileExistsError: the name is taken (a symlink counts: it is never followed).
        OSError: the folder cannot be written.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    os.close(os.open(path, flags, 0o666))


def _blank_file(folder: Path) -> int | None:
    """An empty file in ``folder`` without a name, open (umask mode, as ``create_exclusively``
    gives a file), or None where the system or file system has no such thing."""
    flags = getattr(os, "O_TMPFILE", 0)
    if not flags or os.link not in os.supports_dir_fd & os.supports_follow_symlinks:
        return None
    try:
        return os.open(folder, flags | os.O_WRONLY, 0o666)
    except OSError:  # EOPNOTSUPP, EISDIR (old kernels), ...: no empty file without a name
        return None


def _close_blanks(blanks: dict[Path, int | None]) -> None:
    for blank in blanks.values():
        if blank is not None:
            with contextlib.suppress(OSError):
                os.close(blank)
    blanks.clear()


def release(path: Path) -> None:
    """Remove a reserved name that was never filled (still an empty regular file)."""
    with contextlib.suppress(OSError):
        status = os.lstat(path)
        if stat.S_ISREG(status.st_mode) and status.st_size == 0:
            os.unlink(path)


def make_folder(folder: Path) -> None:
    """Create ``folder`` (and parents); a folder that is a symlink is refused, not followed.

    Raises:
        NotADirectoryError: ``folder`` is a symlink or a file.
        OSError: it cannot be created.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if not stat.S_ISDIR(os.lstat(folder).st_mode):
        raise NotADirectoryError(errno.ENOTDIR, "a symbolic link, not a folder", str(folder))


class NameAllocator:
    """Hands out distinct file names per folder: ``自评表.xlsx``, then ``自评表-2.xlsx``, ...

    Names are compared case-insensitively, since Windows and macOS file systems do. ``taken``
    names (the inputs of a run) are never handed out.
    """

    def __init__(self, taken: Iterable[Path] = ()) -> None:
        self._used: dict[Path, set[str]] = {}
        #: An absolute folder's key, made once: a batch's inputs and copies share a folder or two.
        self._keys: dict[str, Path] = {}
        #: Folders ``reserve`` has made (or found) already.
        self._made: set[Path] = set()
        #: Folder key → the open empty file its reserved names link to; None where there is none
        #: (not Linux, a file system without O_TMPFILE or hard links, no /proc).
        self._blanks: dict[Path, int | None] = {}
        weakref.finalize(self, _close_blanks, self._blanks)
        keys: dict[str, Path] = {}  # relative folders too: the working folder stays put here
        for path in taken:
            folder, name = os.path.split(path)
            key = keys.get(folder)
            if key is None:
                key = keys[folder] = self._folder_key(folder)
            self._used.setdefault(key, set()).add(name.casefold())

    def _folder_key(self, folder: Path | str) -> Path:
        text = os.fspath(folder)
        key = self._keys.get(text)
        if key is None:
            key = Path(os.path.abspath(text))
            if os.path.isabs(text):  # a relative one depends on the working folder
                self._keys[text] = key
        return key

    def allocate(self, folder: Path, stem: str, suffix: str) -> Path:
        """A path in ``folder`` named ``stem + suffix``, numbered if taken earlier in this run."""
        used = self._used.setdefault(self._folder_key(folder), set())
        for number in range(1, _MAX_NUMBER):
            name = fitted_name(stem, suffix, number)
            if name.casefold() not in used:
                used.add(name.casefold())
                return folder / name
        raise NameUnavailableError(errno.EEXIST, "no free numbered name", str(folder))

    def reserve(self, folder: Path, stem: str, suffix: str) -> Path:
        """Like ``allocate``, and the file is created (empty) so no other run can take it.

        Fill it with ``write_output(..., force=True)``; ``release`` it if it stays unused.

        Raises:
            OSError: the folder cannot be created or written, or is a symlink.
        """
        self._make_folder(folder)
        while True:
            path = self.allocate(folder, stem, suffix)
            try:
                self._create(folder, path)
            except FileExistsError:
                continue  # on disk already: a file of an earlier or concurrent run
            return path

    def _create(self, folder: Path, path: Path) -> None:
        """``create_exclusively(path)``, as a link to the folder's empty file where it can."""
        key = self._folder_key(folder)
        if key not in self._blanks:
            self._blanks[key] = _blank_file(folder)
        blank = self._blanks[key]
        if blank is not None:
            try:
                # linkat with AT_SYMLINK_FOLLOW (src_dir_fd makes os.link use linkat; it is
                # ignored for an absolute source): the file behind the descriptor is linked.
                os.link(f"/proc/self/fd/{blank}", path, src_dir_fd=blank, follow_symlinks=True)
                return
            except FileExistsError:
                raise
            except OSError as exc:
                # Too many links (ext4 allows 65,000): a new empty file next time; anything
                # else (no /proc, another file system): names are created one by one here.
                del self._blanks[key]
                os.close(blank)
                if exc.errno != errno.EMLINK:
                    self._blanks[key] = None
        create_exclusively(path)

    def _make_folder(self, folder: Path) -> None:
        """``make_folder`` the first time; after that a look that it is a folder still (one
        system call, not three), and if it is not, ``make_folder`` makes it again or refuses it."""
        if folder in self._made:
            with contextlib.suppress(OSError):
                if stat.S_ISDIR(os.lstat(folder).st_mode):
                    return
        make_folder(folder)
        self._made.add(folder)
