"""Parsed specs kept on disk between runs, so a one-workbook run skips YAML.

Reading YAML and building a spec is about a sixth of a one-workbook ``verify`` (importing the
YAML library included); loading the same spec from a pickle takes a millisecond. A pickle runs
code when loaded, so a cache file is loaded only when this user wrote it:

- the folder (``$XLCHECK_CACHE_DIR``, else ``$XDG_CACHE_HOME/xlcheck``, else
  ``~/.cache/xlcheck``) must be a real folder owned by the user that nobody else may write to;
- a file is opened without following symlinks, must be a regular file owned by the user, and
  starts with an HMAC-SHA256 of the rest under a random key kept in the folder (mode 0600), so a
  file that is not byte for byte what xlcheck wrote (truncated, edited, planted) is ignored.

A file's name is a hash of the spec file's bytes and path (as given and resolved), Python's
version, and the name, size and modification time of every module of xlcheck, so a spec or a
code change never meets a stale entry; the newest MAX_ENTRIES entries are kept. Whatever goes
wrong (no home folder, a read-only disk, a bad entry) only costs a parse: the cache never
raises. ``XLCHECK_CACHE_DIR`` set to an empty string turns it off.

Cache files are not outputs of the user's command, so they do not go through
``output_files.write_output`` (which gives new files the user's umask): they are private, 0600.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import secrets
import stat
import sys
from collections.abc import Callable
from pathlib import Path

from xlcheck.spec.model import Spec
from xlcheck.version import __version__

#: Entries kept; the oldest beyond these are removed when a new one is written.
MAX_ENTRIES = 64
_KEY_NAME = "key"
_TAG_SIZE = 32
_PACKAGE = Path(__file__).resolve().parent


def cache_folder() -> Path | None:
    """Where parsed specs are kept, or None when caching is turned off."""
    configured = os.environ.get("XLCHECK_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "xlcheck"


def cached_spec(path: Path, content: bytes, parse: Callable[[], Spec]) -> Spec:
    """The spec in ``content`` (the bytes of ``path``): from the cache, else ``parse()``d and kept.

    Raises:
        SpecError: from ``parse`` (a spec that does not parse is never cached).
    """
    folder = _private_folder(cache_folder())
    if folder is None:
        return parse()
    entry = folder / f"spec-{_entry_name(path, content)}.pickle"
    key = _key(folder)
    if key is not None:
        spec = _load(entry, key)
        if spec is not None:
            return spec
    spec = parse()
    if key is not None:
        _store(entry, key, spec)
    return spec


def _entry_name(path: Path, content: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(f"{__version__}\0{sys.version}\0{path}\0{path.resolve()}\0".encode())
    digest.update(hashlib.sha256(content).digest())
    digest.update(_code_fingerprint(str(_PACKAGE)).encode())
    return digest.hexdigest()[:32]


def _code_fingerprint(folder: str) -> str:
    """Name, size and modification time of every module under ``folder`` (os.scandir: pathlib's
    rglob takes several milliseconds for the same listing)."""
    lines = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
                lines.append(_code_fingerprint(entry.path))
            elif entry.name.endswith(".py"):
                status = entry.stat()
                lines.append(f"{entry.path}\0{status.st_size}\0{status.st_mtime_ns}")
    return "\n".join(sorted(lines))


def _private_folder(folder: Path | None) -> Path | None:
    """``folder``, created if missing, when it is this user's alone; else None."""
    if folder is None:
        return None
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = os.lstat(folder)
    except OSError:
        return None
    private = (
        stat.S_ISDIR(status.st_mode)
        and status.st_uid == os.getuid()
        and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )
    return folder if private else None


def _read_own_file(path: Path) -> bytes | None:
    """The bytes of ``path`` if it is a regular file this user owns (symlinks not followed)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.getuid():
            return None
        return handle.read()


def _write_private(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically, mode 0600; False when it cannot be written."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with os.fdopen(os.open(temporary, flags, 0o600), "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
        return False
    return True


def _key(folder: Path) -> bytes | None:
    """The folder's HMAC key, made on first use."""
    key_path = folder / _KEY_NAME
    key = _read_own_file(key_path)
    if key is None or len(key) != _TAG_SIZE:
        if not _write_private(key_path, secrets.token_bytes(_TAG_SIZE)):
            return None
        key = _read_own_file(key_path)  # another process may have written its key first
    return key if key is not None and len(key) == _TAG_SIZE else None


def _load(entry: Path, key: bytes) -> Spec | None:
    data = _read_own_file(entry)
    if data is None or len(data) <= _TAG_SIZE:
        return None
    tag, body = data[:_TAG_SIZE], data[_TAG_SIZE:]
    if not hmac.compare_digest(tag, hmac.digest(key, body, "sha256")):
        return None
    try:
        spec = pickle.loads(body)
    except (pickle.UnpicklingError, AttributeError, ImportError, EOFError, TypeError):
        return None
    return spec if isinstance(spec, Spec) else None


def _store(entry: Path, key: bytes, spec: Spec) -> None:
    try:
        body = pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return  # a spec holding something that does not pickle is parsed every time
    if _write_private(entry, hmac.digest(key, body, "sha256") + body):
        _prune(entry.parent, keep=entry)


def _prune(folder: Path, keep: Path) -> None:
    """Remove the oldest entries beyond MAX_ENTRIES (each code or spec change makes a new one)."""
    try:
        entries = [
            (entry.stat(follow_symlinks=False).st_mtime_ns, entry.path)
            for entry in os.scandir(folder)
            if entry.name.startswith("spec-") and entry.name.endswith(".pickle")
        ]
    except OSError:
        return
    for _, stale in sorted(entries)[: max(0, len(entries) - MAX_ENTRIES)]:
        if stale != str(keep):
            with contextlib.suppress(OSError):
                os.unlink(stale)
