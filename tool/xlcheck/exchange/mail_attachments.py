"""Workbook attachments out of .eml files and mbox files, with the mail each came from."""

from __future__ import annotations

import contextlib
import email
import email.header
import email.policy
import email.utils
import mailbox
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email.message import EmailMessage
from pathlib import Path

from xlcheck.errors import XlcheckError
from xlcheck.findings import MailOrigin

#: Attachment names that are workbooks xlcheck is asked about (.xls is extracted too, so it is
#: reported as "save it as .xlsx" instead of silently skipped).
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_WORKBOOK_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.ms-excel": ".xls",
}


@dataclass(frozen=True)
class Attachment:
    """One workbook attachment: the name the sender gave it, its bytes, and its mail."""

    filename: str
    content: bytes
    origin: MailOrigin


def _text(message: EmailMessage, header: str) -> str:
    """A header as plain text; a malformed header becomes its raw text, never an exception."""
    value = message.get(header)
    if value is None:
        return ""
    return " ".join(str(value).split())


def _date(message: EmailMessage) -> str | None:
    raw = message.get("Date")
    if raw is None:
        return None
    moment = getattr(raw, "datetime", None)
    if moment is None:
        try:
            moment = email.utils.parsedate_to_datetime(str(raw))
        except (TypeError, ValueError):
            return None
    return str(moment.isoformat())


def _decoded_filename(part: EmailMessage) -> str | None:
    """The attachment's file name, RFC 2231 or RFC 2047 encoded, with Chinese clients' habits.

    Some mailers put an RFC 2047 encoded word inside a quoted ``filename="=?GBK?B?...?="``,
    which the standard forbids but everyone sends; decode what the email package left encoded.
    """
    name = part.get_filename()
    if name is None:
        return None
    if "=?" in name:
        with contextlib.suppress(LookupError, ValueError, UnicodeDecodeError):
            name = str(email.header.make_header(email.header.decode_header(name)))
    # Only the last path component: a name such as ..\\..\\x.xlsx must not escape the folder.
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name or None


def _workbook_name(part: EmailMessage, number: int) -> str | None:
    name = _decoded_filename(part)
    if name is not None:
        return name if name.lower().endswith(WORKBOOK_SUFFIXES) else None
    suffix = _WORKBOOK_TYPES.get(part.get_content_type())
    return f"attachment-{number}{suffix}" if suffix else None


def _origin(message: EmailMessage, mail_file: Path, message_number: int | None) -> MailOrigin:
    sender = _text(message, "From")
    return MailOrigin(
        mail_file=mail_file,
        message_number=message_number,
        subject=_text(message, "Subject"),
        sender=sender,
        reply_to=_text(message, "Reply-To") or sender,
        message_id=_text(message, "Message-ID"),
        references=_text(message, "References"),
        date=_date(message),
    )


Leaf = tuple[EmailMessage, str | None]


def _leaves(node: EmailMessage, forwarded_from: str | None) -> Iterator[Leaf]:
    """Every non-container part, with the sender of the forwarded message it sits in (if any)."""
    if node.get_content_type() == "message/rfc822":
        inner = node.get_payload()
        inner_message = inner[0] if isinstance(inner, list) and inner else inner
        if isinstance(inner_message, EmailMessage):
            yield from _leaves(inner_message, _text(inner_message, "From") or forwarded_from)
    elif node.is_multipart():
        for child in node.iter_parts():
            yield from _leaves(child, forwarded_from)  # type: ignore[arg-type]
    else:
        yield node, forwarded_from


def _walk(message: EmailMessage, origin: MailOrigin) -> Iterator[Attachment]:
    """Workbook attachments of a message, descending into forwarded (message/rfc822) messages."""
    for number, (part, forwarded_from) in enumerate(_leaves(message, None), start=1):
        if part is message:
            continue  # a mail that is a bare body has no attachments
        name = _workbook_name(part, number)
        if name is None:
            continue
        content = part.get_payload(decode=True)
        if isinstance(content, bytes):
            where = replace(origin, attachment=name, forwarded_from=forwarded_from)
            yield Attachment(name, content, where)


def read_eml(path: Path) -> tuple[MailOrigin, list[Attachment]]:
    """One .eml file's mail and every workbook attachment in it.

    Raises:
        XlcheckError: the file cannot be read.
    """
    try:
        with path.open("rb") as handle:
            message = email.message_from_binary_file(handle, policy=email.policy.default)
    except OSError as exc:
        raise XlcheckError(
            f"{path}：无法读取邮件文件（{exc.strerror or exc}）",
            message_en=f"{path}: cannot read the mail file ({exc.strerror or exc})",
        ) from exc
    assert isinstance(message, EmailMessage)
    origin = _origin(message, path, None)
    return origin, list(_walk(message, origin))


def read_mbox(path: Path) -> Iterator[tuple[MailOrigin, list[Attachment]]]:
    """Each message of an mbox file with its workbook attachments, in file order.

    Raises:
        XlcheckError: the file cannot be read or is not an mbox file.
    """
    try:
        with path.open("rb") as handle:
            start = handle.read(5)
    except OSError as exc:
        raise XlcheckError(
            f"{path}：无法读取 mbox 文件（{exc.strerror or exc}）",
            message_en=f"{path}: cannot read the mbox file ({exc.strerror or exc})",
        ) from exc
    if start != b"From ":
        raise XlcheckError(
            f"{path}：不是 mbox 邮箱文件（应以 “From ” 行开头）",
            message_en=f"{path}: not an mbox file (it should start with a “From ” line)",
            hint="请从邮件客户端导出为 mbox 格式，或把邮件另存为 .eml 文件。",
            hint_en="Export the mailbox as mbox, or save the mails as .eml files.",
        )
    box = mailbox.mbox(path, create=False)
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            origin = _origin(message, path, number)
            yield origin, list(_walk(message, origin))
    except OSError as exc:
        raise XlcheckError(
            f"{path}：读取 mbox 文件时出错（{exc.strerror or exc}）",
            message_en=f"{path}: error while reading the mbox file ({exc.strerror or exc})",
        ) from exc
    finally:
        box.close()
