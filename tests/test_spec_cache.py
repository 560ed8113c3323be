"""The on-disk cache of parsed specs: used when it is the user's own, ignored otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xlcheck import spec_cache
from xlcheck.spec import Spec
from xlcheck.spec_loading import _parse_spec_file, load_spec, resolve_spec_path

BUILTIN = "zhanjiang-overall"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("XLCHECK_CACHE_DIR", str(cache))
    return cache


class Parser:
    """Parses the built-in spec (bypassing every cache) and counts how often it was asked to."""

    def __init__(self) -> None:
        self.calls = 0
        self.path = resolve_spec_path(BUILTIN)
        self.content = self.path.read_bytes()

    def __call__(self) -> Spec:
        self.calls += 1
        from xlcheck.spec_loading import parse_spec, read_yaml

        return parse_spec(read_yaml(self.path), self.path, spec_hash="h")

    def load(self) -> Spec:
        return spec_cache.cached_spec(self.path, self.content, self)


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("spec-*.pickle"))


def _same(first: Spec, second: Spec) -> bool:
    fields = ("id", "version", "title", "year", "sheets", "checks", "roles", "grading", "links")
    return all(getattr(first, f) == getattr(second, f) for f in fields) and (
        first.spec_hash == second.spec_hash and first.source == second.source
    )


def test_second_load_comes_from_the_cache_unchanged(folder: Path) -> None:
    parser = Parser()
    first, second = parser.load(), parser.load()
    assert parser.calls == 1
    assert _same(first, second)
    assert len(_entries(folder)) == 1
    assert _entries(folder)[0].stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700


def test_load_spec_gives_the_same_spec_from_the_cache(folder: Path) -> None:
    clear = _parse_spec_file.cache_clear  # the in-process cache, in front of the disk's
    clear()
    fresh = load_spec(BUILTIN)
    clear()
    cached = load_spec(BUILTIN)
    assert cached is not fresh
    assert _same(fresh, cached)
    assert len(_entries(folder)) == 1


def test_an_entry_not_written_by_xlcheck_is_ignored(folder: Path) -> None:
    parser = Parser()
    parser.load()
    (entry,) = _entries(folder)
    data = bytearray(entry.read_bytes())
    data[-5] ^= 0xFF  # one byte of the pickle changed: the tag no longer matches
    entry.write_bytes(bytes(data))
    spec = parser.load()
    assert parser.calls == 2
    assert spec.id == "zhanjiang-overall"
    assert parser.load() is not None and parser.calls == 2  # the bad entry was replaced


def test_a_symlinked_entry_is_not_followed(folder: Path, tmp_path: Path) -> None:
    parser = Parser()
    parser.load()
    (entry,) = _entries(folder)
    elsewhere = tmp_path / "elsewhere.pickle"
    entry.rename(elsewhere)
    entry.symlink_to(elsewhere)
    parser.load()
    assert parser.calls == 2


def test_a_folder_others_may_write_is_not_used(folder: Path) -> None:
    folder.mkdir(mode=0o700)
    os.chmod(folder, 0o777)
    parser = Parser()
    parser.load()
    parser.load()
    assert parser.calls == 2
    assert not _entries(folder)


def test_turned_off_with_an_empty_folder_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLCHECK_CACHE_DIR", "")
    assert spec_cache.cache_folder() is None
    parser = Parser()
    parser.load()
    parser.load()
    assert parser.calls == 2


def test_an_unwritable_place_only_costs_a_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XLCHECK_CACHE_DIR", str(blocker / "cache"))
    parser = Parser()
    assert parser.load().id == "zhanjiang-overall"
    assert parser.calls == 1


def test_another_spec_content_or_path_is_another_entry(folder: Path, tmp_path: Path) -> None:
    parser = Parser()
    parser.load()
    copy = tmp_path / "copy.yaml"
    copy.write_bytes(parser.content)
    other = spec_cache.cached_spec(copy, parser.content, parser)
    assert parser.calls == 2
    changed = spec_cache.cached_spec(copy, parser.content + b"\n# edited\n", parser)
    assert parser.calls == 3
    assert other.id == changed.id
    assert len(_entries(folder)) == 3


def test_only_the_newest_entries_are_kept(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spec_cache, "MAX_ENTRIES", 2)
    parser = Parser()
    for number in range(4):
        spec_cache.cached_spec(parser.path, parser.content + f"#{number}".encode(), parser)
    assert len(_entries(folder)) == 2
