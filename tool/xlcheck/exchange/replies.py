"""Draft reply mails (.eml) to the units whose workbooks came by mail, annotated copies attached."""

from __future__ import annotations

import contextlib
import dataclasses
import email.errors
import email.policy
import email.utils
import os
import stat
from collections.abc import Iterable, Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from xlcheck.control_characters import escape_controls
from xlcheck.errors import XlcheckError
from xlcheck.exchange.file_names import NameAllocator, release, safe_file_name
from xlcheck.exchange.sources import REPLY_SUFFIX
from xlcheck.findings import Finding, MailOrigin, Severity, VerificationResult
from xlcheck.output_files import write_output

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
#: What the email package raises on a header value it cannot take.
_HEADER_FAILURES = (ValueError, TypeError, IndexError, email.errors.MessageError)
#: Largest annotated copy attached to a draft (a copy is about the size of its workbook).
_MAX_ATTACHED_BYTES = 64 * 1_048_576
_REPLY_PREFIXES = ("re:", "回复:", "回复：", "答复:", "答复：")
#: How many findings a reply lists per workbook before pointing at the annotated copy for the rest.
_MAX_LISTED = 30


def _subject(original: str) -> str:
    return (
        original
        if original.strip().lower().startswith(_REPLY_PREFIXES)
        else f"Re: {original}".strip()
    )


def _workbook_paragraph(result: VerificationResult, lang: str) -> list[str]:
    name = result.mail.attachment if result.mail and result.mail.attachment else result.path.name
    zh = lang == "zh"
    if result.status == "unreadable":
        return [
            f"《{name}》无法校验：{result.unreadable_reason}"
            if zh
            else f"{name} could not be verified: {result.unreadable_reason}",
            "请在 Excel、WPS 或 LibreOffice 中另存为 .xlsx 后重新报送。"
            if zh
            else "Please save it as .xlsx in Excel, WPS or LibreOffice and send it again.",
        ]
    if result.status == "ok":
        return [f"《{name}》校验通过，未发现问题。" if zh else f"{name} passed: no problems found."]
    if result.errors:
        head = (
            f"《{name}》发现 {result.errors} 处错误、{result.warnings} 处提示，请修改后重新报送："
            if zh
            else f"{name}: {result.errors} errors and {result.warnings} warnings; please correct and resend:"
        )
    else:
        head = (
            f"《{name}》未发现错误，有 {result.warnings} 处提示，请核对："
            if zh
            else f"{name}: no errors, {result.warnings} warnings to check:"
        )
    lines = [head]
    for number, finding in enumerate(result.findings[:_MAX_LISTED], start=1):
        kind = (
            ("错误" if zh else "error")
            if finding.severity is Severity.ERROR
            else ("提示" if zh else "warning")
        )
        where = (
            f"{finding.location}："
            if finding.location and zh
            else f"{finding.location}: "
            if finding.location
            else ""
        )
        expected = ""
        if finding.expected is not None:
            expected = f"（应为 {finding.expected}）" if zh else f" (expected {finding.expected})"
        lines.append(f"  {number}. [{kind}] {where}{finding.message_in(lang)}{expected}")
    if len(result.findings) > _MAX_LISTED:
        rest = len(result.findings) - _MAX_LISTED
        lines.append(
            f"  ……另有 {rest} 处，见附件。" if zh else f"  … and {rest} more, see the attachment."
        )
    return lines


def reply_body(results: Sequence[VerificationResult], lang: str = "zh") -> str:
    """The plain-text body: greeting, one paragraph per workbook, what the attachment shows."""
    zh = lang == "zh"
    # What the unit sent, in the words of the specs its workbooks were verified against.
    titles = dict.fromkeys(r.template.title for r in results if r.template and r.template.title)
    sent = "、".join(titles) or "绩效自评表"
    sent_en = ", ".join(f"“{title}”" for title in titles) or "performance self-evaluation workbook"
    paragraphs = [
        "您好：" if zh else "Hello,",
        f"贵单位报送的{sent}已收到，经校验，结果如下："
        if zh
        else f"We received your {sent_en}. The check found:",
    ]
    paragraphs.extend("\n".join(_workbook_paragraph(r, lang)) for r in results)
    if any(r.annotated for r in results):
        paragraphs.append(
            "附件为标注了问题位置的批注副本：红色单元格为错误，黄色为提示，单元格批注写明应为的值，"
            "首页“校验结果”列出全部问题。"
            if zh
            else "The attached annotated copy marks each problem: red cells are errors, amber cells warnings; "
            "each cell's comment gives the expected value, and the first sheet lists every finding."
        )
    paragraphs.append(
        "（本邮件草稿由 xlcheck 生成，发送前请复核。）"
        if zh
        else "(Draft written by xlcheck; please review before sending.)"
    )
    return escape_controls("\n\n".join(paragraphs) + "\n", keep="\n")


def _recipients(text: str) -> list[Address]:
    """The addresses of a From/Reply-To text; one the email package cannot take is left out.

    Address objects, not formatted text: the email package folds a formatted, encoded display
    name holding ":" or "@" into a second address.
    """
    recipients = []
    for name, address in email.utils.getaddresses([text]):
        with contextlib.suppress(*_HEADER_FAILURES):
            recipients.append(Address(display_name=name, addr_spec=address))
    return recipients


def _set_header(message: EmailMessage, name: str, value: str | list[Address] | None) -> None:
    """Set a header; a value the email package refuses is left out (the reader fills it in)."""
    if value:
        with contextlib.suppress(*_HEADER_FAILURES):
            message[name] = value


def _read_own_copy(path: Path) -> bytes | None:
    """An annotated copy's bytes, never through a symlink put in its place, nor from a device."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode) or status.st_size > _MAX_ATTACHED_BYTES:
            return None
        return handle.read()


def draft_reply(
    mail: MailOrigin,
    results: Sequence[VerificationResult],
    *,
    lang: str = "zh",
    sender: str | None = None,
) -> EmailMessage:
    """One reply to one mail, covering every workbook it carried, their annotated copies attached.

    The original's References are kept and its Message-ID added, so the reply joins the thread.
    """
    message = EmailMessage()
    _set_header(message, "From", sender)
    _set_header(message, "To", _recipients(mail.reply_to or mail.sender))
    _set_header(
        message,
        "Subject",
        _subject(mail.subject or ("绩效自评表校验结果" if lang == "zh" else "Workbook check")),
    )
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Message-ID"] = email.utils.make_msgid(domain="xlcheck.invalid")
    if mail.message_id and mail.message_id.isascii():  # an id is ASCII; anything else is not
        _set_header(message, "In-Reply-To", mail.message_id)
        references = f"{mail.references} {mail.message_id}".strip()
        _set_header(message, "References", references if references.isascii() else None)
    # Outlook opens a mail marked unsent as a draft ready to send; other clients ignore it.
    message["X-Unsent"] = "1"
    message.set_content(reply_body(results, lang))
    for result in results:
        content = _read_own_copy(result.annotated) if result.annotated is not None else None
        if result.annotated is not None and content is not None:
            message.add_attachment(
                content,
                maintype=XLSX_TYPE[0],
                subtype=XLSX_TYPE[1],
                filename=result.annotated.name,
            )
    return message


def _as_bytes(message: EmailMessage) -> bytes:
    """The draft as bytes; an address with a non-ASCII mailbox or domain is written as UTF-8
    (RFC 6532), which plain ASCII headers cannot carry."""
    try:
        return message.as_bytes()
    except UnicodeEncodeError:
        return message.as_bytes(policy=email.policy.default.clone(utf8=True))


MailKey = tuple[str, int | None, str]


def _mail_key(mail: MailOrigin) -> MailKey:
    return (str(mail.mail_file), mail.message_number, mail.message_id)


class ReplyDrafter:
    """Writes one draft reply .eml per mail as the batch's results stream past.

    A mail's workbooks come one after another in a batch, so its reply is written as soon as the
    next mail's first result arrives: only one mail's results are held at a time, except a mail
    whose workbooks take part in links across workbooks (``held``), whose reply waits for
    ``finish`` so it carries the findings ``amend`` adds. A mail
    carrying several workbooks gets one reply covering them all: the unit answers one mail.
    A draft that cannot be written is recorded in ``failures`` and the others still come; a
    mail without a sender's address gets none.

    Args:
        out_dir: folder for the drafts; None puts each beside its mail file.
        sender: the From of the drafts, e.g. "绩效科 <jx@czj.gov.cn>".
    """

    def __init__(
        self, out_dir: Path | None, *, lang: str = "zh", sender: str | None = None
    ) -> None:
        self.out_dir = out_dir
        self.lang = lang
        self.sender = sender
        self.names = NameAllocator()
        self.written: list[Path] = []
        self.failures: list[str] = []
        self._key: MailKey | None = None
        self._group: list[VerificationResult] = []
        #: Places in the batch of the current mail's results that may be amended.
        self._indices: dict[int, int] = {}
        self._held: list[tuple[list[VerificationResult], dict[int, int]]] = []

    def add(self, result: VerificationResult, *, index: int | None = None) -> None:
        """Add a result; one with an ``index`` (its place in the batch) may be amended, so its
        mail's reply waits for ``finish``."""
        if result.mail is None:
            return
        key = _mail_key(result.mail)
        if key != self._key:
            self._next_mail()
            self._key = key
        if index is not None:
            self._indices[index] = len(self._group)
        self._group.append(result)

    def amend(self, index: int, added: Sequence[Finding]) -> None:
        """Add findings to the held result at ``index`` before its reply is written."""
        for group, indices in (*self._held, (self._group, self._indices)):
            if index in indices:
                result = group[indices[index]]
                findings = tuple(sorted((*result.findings, *added), key=Finding.sort_key))
                group[indices[index]] = dataclasses.replace(result, findings=findings)

    def finish(self) -> list[Path]:
        """Write the drafts still held; every draft written (held ones last)."""
        self._next_mail()
        for group, _ in self._held:
            self._write(group)
        self._held = []
        return self.written

    def _next_mail(self) -> None:
        group, indices = self._group, self._indices
        self._group, self._indices = [], {}
        if group and indices:
            self._held.append((group, indices))
        elif group:
            self._write(group)

    def _write(self, group: list[VerificationResult]) -> None:
        mail = group[0].mail
        assert mail is not None
        if not _recipients(mail.reply_to or mail.sender):
            return  # no address to answer (bytes that only parse as a mail)
        folder = self.out_dir if self.out_dir is not None else mail.mail_file.parent
        name = safe_file_name(mail.attachment) if mail.attachment else mail.mail_file.name
        target: Path | None = None
        try:
            target = self.names.reserve(folder, Path(name).stem, REPLY_SUFFIX)
            draft = _as_bytes(draft_reply(mail, group, lang=self.lang, sender=self.sender))
            write_output(target, draft, force=True)  # over its own reservation
        except (OSError, XlcheckError) as exc:
            if target is not None:
                release(target)
            where = escape_controls(str(target or folder))
            if isinstance(exc, XlcheckError):
                reason = exc.render_line(self.lang)
            else:
                reason = exc.strerror or str(exc)
            self.failures.append(
                f"无法写入回复草稿 {where}（{reason}）"
                if self.lang == "zh"
                else f"cannot write the draft reply {where} ({reason})"
            )
            return
        self.written.append(target)


def write_replies(
    results: Iterable[VerificationResult],
    out_dir: Path | None,
    *,
    lang: str = "zh",
    sender: str | None = None,
) -> list[Path]:
    """A draft reply .eml for each mail the results came from, in ``out_dir`` (else beside the mail).

    Raises:
        XlcheckError: a draft cannot be written (the others are written first).
    """
    drafter = ReplyDrafter(out_dir, lang=lang, sender=sender)
    for result in results:
        drafter.add(result)
    written = drafter.finish()
    if drafter.failures:
        raise XlcheckError(drafter.failures[0])
    return written
