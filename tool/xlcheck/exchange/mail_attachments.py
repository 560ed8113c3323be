"""Workbook attachments out of .eml files and mbox files, with the mail each came from.

Mail comes from anyone, so reading it is bounded and never raises anything but ``XlcheckError``:
a mail is at most ``MAX_MAIL_BYTES``, ``MAX_MAIL_PARTS`` parts, ``MAX_NESTING`` forwards deep and
``MAX_WORKBOOKS_PER_MAIL`` workbooks; headers are decoded by hand (a CR/LF or an ESC inside an
encoded display name is text, not a reason to stop), and the parts are walked without recursion.
"""

from __future__ import annotations

import contextlib
import email
import email.errors
import email.header
import email.policy
import email.utils
import mailbox
import re
from collections.abc import Iterator
from dataclasses import replace
from email.message import Message
from pathlib import Path

from xlcheck.control_characters import escape_controls
from xlcheck.errors import XlcheckError
from xlcheck.findings import MailOrigin
from xlcheck.input_files import check_regular_file, read_regular_file
from xlcheck.records import record

#: Attachment names that are workbooks xlcheck is asked about (.xls is extracted too, so it is
#: reported as "save it as .xlsx" instead of silently skipped).
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_WORKBOOK_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.ms-excel": ".xls",
}
#: One mail (an .eml file, or one message of an mbox): a 20 MB workbook is 27 MB in base64.
MAX_MAIL_BYTES = 64 * 1_048_576
#: MIME parts in one mail, counting every container and forwarded message.
MAX_MAIL_PARTS = 1_000
#: Workbook attachments in one mail; a unit sends a few.
MAX_WORKBOOKS_PER_MAIL = 100
#: Forwarded messages inside forwarded messages.
MAX_NESTING = 20
#: What breaks inside the email package on a malformed mail (it raises more than MessageError).
_PARSE_FAILURES = (
    email.errors.MessageError,
    LookupError,
    UnicodeError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    RecursionError,
)


@record
class Attachment:
    """One workbook attachment: the name the sender gave it, its bytes, and its mail."""

    filename: str
    content: bytes
    origin: MailOrigin


class _RawHeaders(email.policy.Compat32):
    """compat32 handing out headers as the raw text they are (8-bit bytes as surrogates), not as
    Header objects whose str() turns a raw UTF-8 or GBK file name into replacement characters;
    ``decode_header_text`` decodes them."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


_POLICY = _RawHeaders()


class MailError(XlcheckError):
    """A mail that cannot be read, or is beyond the caps."""


def _too_complex(where: str, where_en: str, problem: str, problem_en: str) -> MailError:
    return MailError(
        f"{where}：{problem}，未读取",
        message_en=f"{where_en}: {problem_en}; not read",
        hint="请让发件人把工作簿直接作为附件重新发送。",
        hint_en="Ask the sender to attach the workbook directly and send it again.",
    )


def decode_header_text(raw: object) -> str:
    """A header's value as one line of plain text: RFC 2047 words decoded, raw 8-bit bytes read
    as UTF-8 or GB18030 (Chinese mail clients send both), whitespace (CR/LF too) collapsed,
    control characters escaped."""
    return escape_controls(" ".join(_decoded(raw).split()))


def _decoded(raw: object) -> str:
    """A header value (text, or the Header compat32 gives for raw 8-bit bytes) as text."""
    if isinstance(raw, email.header.Header):
        pieces = email.header.decode_header(raw)
    else:
        text = str(raw)
        if "=?" not in text and not _has_raw_bytes(text):
            return text
        if "=?" not in text:
            return _text_of(text.encode("ascii", "surrogateescape"), None)
        try:
            pieces = email.header.decode_header(text)
        except _PARSE_FAILURES:
            return text
    return "".join(
        piece if isinstance(piece, str) else _text_of(piece, charset) for piece, charset in pieces
    )


def _has_raw_bytes(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)  # bytes the parser kept escaped


def _text_of(data: bytes, charset: str | None) -> str:
    """Bytes of a header: in their declared charset, else UTF-8, else GB18030 (the two that
    Chinese mail clients send unlabelled)."""
    if charset not in (None, "unknown-8bit", "us-ascii"):
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            return data.decode(str(charset))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", "replace")


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    return "" if value is None else decode_header_text(value)


def _date(message: Message) -> str | None:
    raw = message.get("Date")
    if raw is None:
        return None
    try:
        return email.utils.parsedate_to_datetime(str(raw)).isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _attachment_name(part: Message) -> str | None:
    """The attachment's file name, RFC 2231 or RFC 2047 encoded, with Chinese clients' habits.

    Some mailers put an RFC 2047 encoded word inside a quoted ``filename="=?GBK?B?...?="``,
    which the standard forbids but everyone sends; that is decoded here too.
    """
    try:
        name = part.get_filename()
    except _PARSE_FAILURES:
        return None
    if name is None:
        return None
    # Only the last path component: a name such as ..\\..\\x.xlsx must not escape the folder.
    name = _decoded(name).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return escape_controls(name) or None


def _workbook_name(part: Message, number: int) -> str | None:
    name = _attachment_name(part)
    if name is not None:
        return name if name.lower().endswith(WORKBOOK_SUFFIXES) else None
    suffix = _WORKBOOK_TYPES.get(part.get_content_type())
    return f"attachment-{number}{suffix}" if suffix else None


_ADDRESS_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')


def _addresses(message: Message, name: str) -> str:
    """The addresses of an address header, split before the display names are decoded (an
    encoded name holding "a@b, c@d" or a CR/LF stays one name), each as ``Name <addr>``."""
    raw = [str(value) for value in message.get_all(name, [])]
    shown = []
    for display, address in email.utils.getaddresses(raw):
        address = escape_controls("".join(address.split()))
        if not address:
            continue
        display = decode_header_text(display)
        if _ADDRESS_SPECIALS.search(display):
            display = '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'
        shown.append(f"{display} <{address}>" if display else address)
    return ", ".join(shown)


def _origin(message: Message, mail_file: Path, message_number: int | None) -> MailOrigin:
    return MailOrigin(
        mail_file=mail_file,
        message_number=message_number,
        subject=_header(message, "Subject"),
        sender=_header(message, "From"),
        reply_to=_addresses(message, "Reply-To") or _addresses(message, "From"),
        message_id=_header(message, "Message-ID"),
        references=_header(message, "References"),
        date=_date(message),
    )


Leaf = tuple[Message, str | None]


def _leaves(message: Message, where: str, where_en: str) -> Iterator[Leaf]:
    """Every non-container part in mail order, with the sender of the forwarded message it sits
    in (if any); iterative, so nesting depth costs no stack.

    Raises:
        MailError: more than ``MAX_MAIL_PARTS`` parts or ``MAX_NESTING`` forwards.
    """
    stack: list[tuple[Message, str | None, int]] = [(message, None, 0)]
    parts = 0
    while stack:
        node, forwarded_from, depth = stack.pop()
        parts += 1
        if parts > MAX_MAIL_PARTS:
            raise _too_complex(
                where,
                where_en,
                f"邮件的部分超过 {MAX_MAIL_PARTS:,} 个",
                f"the mail has more than {MAX_MAIL_PARTS:,} parts",
            )
        if node.get_content_type() == "message/rfc822":
            if depth >= MAX_NESTING:
                raise _too_complex(
                    where,
                    where_en,
                    f"转发嵌套超过 {MAX_NESTING} 层",
                    f"forwards are nested more than {MAX_NESTING} deep",
                )
            inner = node.get_payload()
            inner_message = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner_message, Message):
                sender = _header(inner_message, "From") or forwarded_from
                stack.append((inner_message, sender, depth + 1))
        elif node.is_multipart():
            children = node.get_payload()
            if isinstance(children, list):
                stack.extend(
                    (child, forwarded_from, depth)
                    for child in reversed(children)
                    if isinstance(child, Message)
                )
        else:
            yield node, forwarded_from


def _walk(message: Message, origin: MailOrigin, where: str, where_en: str) -> list[Attachment]:
    """Workbook attachments of a message, descending into forwarded (message/rfc822) messages."""
    found: list[Attachment] = []
    for number, (part, forwarded_from) in enumerate(_leaves(message, where, where_en), start=1):
        if part is message:
            continue  # a mail that is a bare body has no attachments
        name = _workbook_name(part, number)
        if name is None:
            continue
        content = part.get_payload(decode=True)
        if isinstance(content, bytes):
            if len(found) >= MAX_WORKBOOKS_PER_MAIL:
                raise _too_complex(
                    where,
                    where_en,
                    f"工作簿附件超过 {MAX_WORKBOOKS_PER_MAIL} 个",
                    f"it carries more than {MAX_WORKBOOKS_PER_MAIL} workbooks",
                )
            where_from = replace(origin, attachment=name, forwarded_from=forwarded_from)
            found.append(Attachment(name, content, where_from))
    return found


def read_mail(
    data: bytes, mail_file: Path, message_number: int | None = None
) -> tuple[MailOrigin, list[Attachment]]:
    """One mail's origin and every workbook attachment in it.

    Raises:
        MailError: the mail cannot be parsed, or is beyond the caps.
    """
    where = f"{mail_file}" + (f" 第 {message_number} 封" if message_number else "")
    where_en = f"{mail_file}" + (f" message {message_number}" if message_number else "")
    try:
        # compat32 keeps headers as text (decoded here), parses many parts 15 times faster than
        # the default policy and never builds header objects that raise on odd addresses.
        message = email.message_from_bytes(data, policy=_POLICY)
        origin = _origin(message, mail_file, message_number)
        return origin, _walk(message, origin, where, where_en)
    except MailError:
        raise
    except RecursionError as exc:
        raise _too_complex(
            where, where_en, "邮件结构嵌套过深", "its structure is nested too deep"
        ) from exc
    except _PARSE_FAILURES as exc:
        raise MailError(
            f"{where}：邮件格式有误，无法读取（{type(exc).__name__}）",
            message_en=f"{where_en}: the mail is malformed and cannot be read ({type(exc).__name__})",
            hint="请让发件人重新发送，或在邮件客户端里把附件另存后校验。",
            hint_en="Ask the sender to send it again, or save the attachment from a mail client.",
        ) from exc


def read_eml(path: Path) -> tuple[MailOrigin, list[Attachment]]:
    """One .eml file's mail and every workbook attachment in it.

    Raises:
        XlcheckError: the file cannot be read, is not a regular file, or is beyond the caps.
    """
    try:
        data = read_regular_file(path, limit=MAX_MAIL_BYTES, what="邮件文件", what_en="mail file")
    except OSError as exc:
        raise MailError(
            f"{path}：无法读取邮件文件（{exc.strerror or exc}）",
            message_en=f"{path}: cannot read the mail file ({exc.strerror or exc})",
        ) from exc
    return read_mail(data, path)


def _mbox_problem(path: Path, exc: OSError) -> MailError:
    return MailError(
        f"{path}：读取 mbox 文件时出错（{exc.strerror or exc}）",
        message_en=f"{path}: error while reading the mbox file ({exc.strerror or exc})",
    )


def read_mbox(path: Path) -> Iterator[tuple[int, bytes | MailError]]:
    """Each message of an mbox file as (1-based number, its bytes or why it cannot be read).

    Raises:
        XlcheckError: the file cannot be read, is not a regular file, or is not an mbox file.
    """
    try:
        check_regular_file(path, what="mbox 邮箱文件", what_en="an mbox file")
        with path.open("rb") as handle:
            start = handle.read(5)
    except OSError as exc:
        raise MailError(
            f"{path}：无法读取 mbox 文件（{exc.strerror or exc}）",
            message_en=f"{path}: cannot read the mbox file ({exc.strerror or exc})",
        ) from exc
    if start != b"From ":
        raise MailError(
            f"{path}：不是 mbox 邮箱文件（应以 “From ” 行开头）",
            message_en=f"{path}: not an mbox file (it should start with a “From ” line)",
            hint="请从邮件客户端导出为 mbox 格式，或把邮件另存为 .eml 文件。",
            hint_en="Export the mailbox as mbox, or save the mails as .eml files.",
        )
    box = mailbox.mbox(path, create=False)
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            with box.get_file(key) as message_file:
                data = message_file.read(MAX_MAIL_BYTES + 1)
            if len(data) > MAX_MAIL_BYTES:
                yield (
                    number,
                    _too_complex(
                        f"{path} 第 {number} 封",
                        f"{path} message {number}",
                        f"邮件超过 {MAX_MAIL_BYTES // 1_048_576} MB",
                        f"the mail is larger than {MAX_MAIL_BYTES // 1_048_576} MB",
                    ),
                )
            else:
                yield number, data
    except OSError as exc:
        raise _mbox_problem(path, exc) from exc
    finally:
        box.close()
