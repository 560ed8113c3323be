"""Builders of the hostile corpus: mails, mailboxes and summary shards as an attacker, a careless
sender or a busy colleague makes them. Built in the tests, never checked in."""

from __future__ import annotations

import base64
import json
import mailbox
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.test_sources import make_mail

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def encoded_word(text: str) -> str:
    """``text`` as one RFC 2047 encoded word (base64, UTF-8): it may hide CR/LF or ESC."""
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def raw_mail(
    headers: dict[str, str],
    attachments: dict[str, bytes],
    *,
    disposition_name: str | None = None,
) -> bytes:
    """A multipart mail written by hand, headers exactly as given (no library cleaning them).

    Args:
        disposition_name: the raw ``filename=`` parameter, for every attachment (else its name).
    """
    lines = [f"{name}: {value}" for name, value in headers.items()]
    lines += ["MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=XX", "", "--XX"]
    lines += ["Content-Type: text/plain; charset=utf-8", "", "附件是自评表。"]
    for name, content in attachments.items():
        filename = disposition_name if disposition_name is not None else name
        lines += [
            "--XX",
            f"Content-Type: {XLSX_TYPE}",
            f'Content-Disposition: attachment; filename="{filename}"',
            "Content-Transfer-Encoding: base64",
            "",
            base64.b64encode(content).decode(),
        ]
    lines.append("--XX--")
    return "\r\n".join(lines).encode("utf-8") + b"\r\n"


def nested_forwards(depth: int, innermost: bytes) -> bytes:
    """A mail forwarded inside a forward ``depth`` times (message/rfc822 in message/rfc822...)."""
    message = innermost
    for number in range(depth):
        message = (
            f"From: fwd{number}@example.cn\r\nSubject: Fwd\r\nContent-Type: message/rfc822\r\n\r\n"
        ).encode() + message
    return message


def many_attachments(count: int, *, suffix: str = ".xlsx") -> bytes:
    """One mail carrying ``count`` tiny attachments (a few bytes each)."""
    parts = [
        f"--B\r\nContent-Type: {XLSX_TYPE}\r\n"
        f'Content-Disposition: attachment; filename="a{number}{suffix}"\r\n\r\nPK\r\n'
        for number in range(count)
    ]
    head = "From: many@example.cn\r\nSubject: many\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
    return (head + "".join(parts) + "--B--\r\n").encode()


def mailbox_of(path: Path, messages: list[EmailMessage | bytes]) -> Path:
    """An mbox file holding ``messages`` in order."""
    box = mailbox.mbox(path)
    for message in messages:
        box.add(message)
    box.flush()
    box.close()
    return path


def newsletters(count: int) -> list[EmailMessage | bytes]:
    """Mails without a workbook, as an mbox exported from a real inbox is mostly made of."""
    return [
        make_mail({}, sender=f"news{n}@list.example.com", message_id=f"<news{n}@x>")
        for n in range(count)
    ]


#: Hand-edited summary shards, each broken in its own way, with a word its refusal names.
def bad_shards() -> dict[str, tuple[str, str]]:
    """name → (file content, a word the one-line refusal must contain)."""

    def shard(rows: Any, findings: Any = None, **extra: Any) -> str:
        document = {"xlcheck": "0.1.0", "kind": "xlcheck-summary", "workbooks": rows}
        document["findings"] = [] if findings is None else findings
        document.update(extra)
        return json.dumps(document, ensure_ascii=False)

    good = {"file": "a.xlsx", "status": "ok", "unit": "甲", "year": 2023, "errors": 0}
    return {
        "not-json.json": ("{workbooks: [", "JSON"),
        "nan.json": (shard([{**good, "budget": "NaN"}]).replace('"NaN"', "NaN"), "NaN"),
        "infinity.json": (
            shard([{**good, "budget": 1}]).replace(": 1}", ": Infinity}"),
            "Infinity",
        ),
        "overflow-1e999.json": (
            shard([{**good, "budget": 1}]).replace(": 1}", ": 1e999}"),
            "budget",
        ),
        "deep-nesting.json": ("[" * 100_000 + "]" * 100_000, "嵌套"),
        "workbooks-not-a-list.json": (shard({"a": 1}), "workbooks"),
        "row-not-an-object.json": (shard([1, 2]), "不是一个对象"),
        "errors-is-text.json": (shard([{**good, "errors": "many"}]), "errors"),
        "year-is-boolean.json": (shard([{**good, "year": True}]), "year"),
        "unit-is-a-list.json": (shard([{**good, "unit": ["甲"]}]), "unit"),
        "status-unknown.json": (shard([{**good, "status": "great"}]), "status"),
        "file-missing.json": (shard([{"status": "ok"}]), "file"),
        "finding-nested.json": (shard([good], [{"file": "a", "message": {"x": [1]}}]), "message"),
        "finding-infinite.json": (
            shard([good], [{"file": "a", "expected": 1}]).replace(
                '"expected": 1', '"expected": -Infinity'
            ),
            "Infinity",
        ),
        "wrong-kind.json": (json.dumps({"kind": "other", "workbooks": []}), "xlcheck"),
        "csv-nan.csv": ("file,status,budget\na.xlsx,ok,nan\n", "budget"),
        "csv-inf.csv": ("file,status,budget\na.xlsx,ok,-inf\n", "budget"),
        "csv-year-text.csv": ("file,status,year\na.xlsx,ok,二〇二三\n", "year"),
        "csv-no-columns.csv": ("a,b\n1,2\n", "file"),
        "csv-huge-field.csv": ('file,status\n"' + "x" * 200_000 + '",ok\n', "CSV"),
        "not-utf8.csv": ("file,status\n", "utf-8"),  # written as GBK bytes by the test
    }
