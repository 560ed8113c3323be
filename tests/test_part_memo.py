"""The bounded memory of what a batch worker read from package parts."""

from __future__ import annotations

from collections.abc import Callable

from xlcheck.part_memo import PartMemo


def test_recall_makes_once_and_keeps_only_what_fits() -> None:
    memo: PartMemo[bytes, str] = PartMemo(limit=2, largest=4)
    made: list[bytes] = []

    def maker(data: bytes) -> Callable[[], str]:
        def make() -> str:
            made.append(data)
            return data.decode()

        return make

    assert memo.recall(b"ab", maker(b"ab"), len) == "ab"
    assert memo.recall(b"ab", maker(b"ab"), len) == "ab"
    assert memo.recall(b"toolong", maker(b"toolong"), len) == "toolong"
    assert memo.recall(b"toolong", maker(b"toolong"), len) == "toolong"
    assert made == [b"ab", b"toolong", b"toolong"]  # a part past ``largest`` is made each time
    memo.recall(b"cd", maker(b"cd"), len)
    memo.recall(b"ef", maker(b"ef"), len)  # full: emptied first
    assert sorted(memo) == [b"ef"]
