"""Names reserved in a folder: exclusive, empty until replaced whole, released while empty."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from xlcheck.exchange import file_names
from xlcheck.exchange.file_names import NameAllocator, release
from xlcheck.output_files import write_output

LINKED = file_names._blank_file(Path(".")) is not None  # Linux with O_TMPFILE here


def test_reserved_names_are_distinct_empty_files_and_skip_names_on_disk(tmp_path: Path) -> None:
    (tmp_path / "自评表.checked.xlsx").write_bytes(b"an earlier run's copy")
    names = NameAllocator()

    first = names.reserve(tmp_path, "自评表", ".checked.xlsx")
    second = names.reserve(tmp_path, "自评表", ".checked.xlsx")

    assert [first.name, second.name] == ["自评表-2.checked.xlsx", "自评表-3.checked.xlsx"]
    assert all(
        p.is_file() and not p.is_symlink() and p.stat().st_size == 0 for p in (first, second)
    )
    assert (tmp_path / "自评表.checked.xlsx").read_bytes() == b"an earlier run's copy"


@pytest.mark.skipif(not LINKED, reason="no O_TMPFILE here: each name is a file of its own")
def test_reserved_names_share_one_empty_file_which_a_copy_replaces_whole(tmp_path: Path) -> None:
    names = NameAllocator()
    reserved = [names.reserve(tmp_path, f"unit-{n}", ".checked.xlsx") for n in range(3)]
    assert reserved[0].stat().st_nlink == 3  # links, not three new files

    write_output(reserved[0], b"the annotated copy", force=True)
    release(reserved[1])

    assert reserved[0].read_bytes() == b"the annotated copy"
    assert reserved[0].stat().st_nlink == 1
    assert not reserved[1].exists()
    assert reserved[2].read_bytes() == b"" and reserved[2].stat().st_nlink == 1
    mode = 0o666 & ~_umask()
    assert reserved[2].stat().st_mode & 0o777 == mode


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("failure", [errno.EMLINK, errno.ENOENT], ids=["too-many-links", "no-proc"])
def test_a_link_that_fails_falls_back_to_creating_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: int
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(failure, os.strerror(failure))

    names = NameAllocator()
    names.reserve(tmp_path, "first", ".xlsx")
    monkeypatch.setattr(os, "link", refuse)

    reserved = names.reserve(tmp_path, "second", ".xlsx")

    assert reserved.is_file() and reserved.stat().st_size == 0 and reserved.stat().st_nlink == 1


def test_without_an_empty_file_to_link_each_name_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_names, "_blank_file", lambda folder: None)
    names = NameAllocator()

    reserved = [names.reserve(tmp_path, "unit", ".xlsx") for _ in range(2)]

    assert [p.stat().st_nlink for p in reserved] == [1, 1]


def test_a_reserved_name_is_never_a_planted_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    (tmp_path / "unit.xlsx").symlink_to(victim)
    (tmp_path / "unit-2.xlsx").symlink_to(tmp_path / "missing.txt")

    reserved = NameAllocator().reserve(tmp_path, "unit", ".xlsx")

    assert reserved.name == "unit-3.xlsx" and not reserved.is_symlink()
    assert victim.read_text(encoding="utf-8") == "precious"
