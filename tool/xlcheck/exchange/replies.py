"""Draft reply mails (.eml) to the units whose workbooks came by mail, annotated copies attached."""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

from xlcheck.errors import XlcheckError
from xlcheck.exchange.file_names import NameAllocator
from xlcheck.findings import MailOrigin, Severity, VerificationResult

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
REPLY_SUFFIX = ".reply.eml"
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
    paragraphs = [
        "您好：" if zh else "Hello,",
        "贵单位报送的部门整体支出绩效自评表已收到，经校验，结果如下："
        if zh
        else "We received your performance self-evaluation workbook(s). The check found:",
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
    return "\n\n".join(paragraphs) + "\n"


def draft_reply(
    mail: MailOrigin,
    results: Sequence[VerificationResult],
    *,
    lang: str = "zh",
    sender: str | None = None,
) -> EmailMessage:
    """One reply to one mail, covering every workbook it carried, their annotated copies attached."""
    message = EmailMessage()
    if sender:
        message["From"] = sender
    message["To"] = mail.reply_to or mail.sender
    message["Subject"] = _subject(
        mail.subject or ("绩效自评表校验结果" if lang == "zh" else "Workbook check")
    )
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Message-ID"] = email.utils.make_msgid(domain="xlcheck.invalid")
    if mail.message_id:
        message["In-Reply-To"] = mail.message_id
        message["References"] = f"{mail.references} {mail.message_id}".strip()
    # Outlook opens a mail marked unsent as a draft ready to send; other clients ignore it.
    message["X-Unsent"] = "1"
    message.set_content(reply_body(results, lang))
    for result in results:
        if result.annotated is not None and result.annotated.is_file():
            message.add_attachment(
                result.annotated.read_bytes(),
                maintype=XLSX_TYPE[0],
                subtype=XLSX_TYPE[1],
                filename=result.annotated.name,
            )
    return message


def write_replies(
    results: Sequence[VerificationResult],
    out_dir: Path | None,
    *,
    lang: str = "zh",
    sender: str | None = None,
) -> list[Path]:
    """A draft reply .eml for each mail the results came from, in ``out_dir`` (else beside the mail).

    A mail carrying several workbooks gets one reply covering them all: the unit answers one mail.

    Raises:
        XlcheckError: a draft cannot be written.
    """
    by_mail: dict[tuple[str, int | None, str], list[VerificationResult]] = {}
    origins: dict[tuple[str, int | None, str], MailOrigin] = {}
    for result in results:
        if result.mail is None:
            continue
        key = (str(result.mail.mail_file), result.mail.message_number, result.mail.message_id)
        by_mail.setdefault(key, []).append(result)
        origins.setdefault(key, result.mail)
    names = NameAllocator()
    written: list[Path] = []
    for key, group in by_mail.items():
        mail = origins[key]
        folder = out_dir if out_dir is not None else mail.mail_file.parent
        stem = Path(mail.attachment).stem if mail.attachment else mail.mail_file.stem
        target = names.allocate(folder, stem, REPLY_SUFFIX)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target.write_bytes(bytes(draft_reply(mail, group, lang=lang, sender=sender)))
        except OSError as exc:
            raise XlcheckError(
                f"无法写入回复草稿 {target}（{exc.strerror or exc}）",
                message_en=f"cannot write the draft reply {target} ({exc.strerror or exc})",
            ) from exc
        written.append(target)
    return written
