"""Inputs → workbooks: folders, globs, .eml attachments (RFC 2047/2231 names, forwards), mbox."""

from __future__ import annotations

import base64
import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import FillWorkbook
from xlcheck.exchange.sources import expand_sources

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def make_mail(
    attachments: dict[str, bytes],
    *,
    sender: str = "财务科 <caiwu@unit.example.cn>",
    subject: str = "报送 2023 年度部门整体支出绩效自评表",
    message_id: str = "<m1@unit.example.cn>",
    date: str = "Mon, 15 Jan 2024 09:30:00 +0800",
) -> EmailMessage:
    """A mail with workbook attachments; non-ASCII names are RFC 2231 encoded by the policy."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "jixiao@czj.example.gov.cn"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = date
    message.set_content("您好，附件是我单位的自评表，请审核。")
    for name, content in attachments.items():
        message.add_attachment(content, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=name)
    return message


def write_eml(path: Path, message: EmailMessage) -> Path:
    path.write_bytes(bytes(message))
    return path


def test_expand_eml_decodes_rfc2231_chinese_names_and_keeps_several_attachments(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    content = make_workbook().read_bytes()
    mail = write_eml(
        tmp_path / "mail.eml", make_mail({"自评表.xlsx": content, "附表 二.xlsx": content})
    )
    assert b"filename*=" in mail.read_bytes()  # the names really are RFC 2231 encoded

    inputs = expand_sources([mail])

    assert [i.path.name for i in inputs] == ["自评表.xlsx", "附表 二.xlsx"]
    assert all(i.path.parent == tmp_path / "mail.eml.attachments" for i in inputs)
    assert inputs[0].path.read_bytes() == content
    origin = inputs[0].mail
    assert origin is not None
    assert origin.sender == "财务科 <caiwu@unit.example.cn>"
    assert origin.subject == "报送 2023 年度部门整体支出绩效自评表"
    assert origin.message_id == "<m1@unit.example.cn>"
    assert origin.attachment == "自评表.xlsx"
    assert origin.date == "2024-01-15T09:30:00+08:00"


def test_expand_eml_decodes_rfc2047_words_inside_a_quoted_name(tmp_path: Path) -> None:
    # Chinese mail clients send filename="=?GBK?B?...?=", which RFC 2047 forbids but is common.
    encoded = base64.b64encode("自评表.xlsx".encode("gbk")).decode("ascii")
    raw = (
        "From: unit@example.cn\r\nSubject: =?UTF-8?B?"
        + base64.b64encode("自评".encode()).decode()
        + "?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        "--XX\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        '--XX\r\nContent-Type: application/octet-stream; name="=?GBK?B?' + encoded + '?="\r\n'
        'Content-Disposition: attachment; filename="=?GBK?B?' + encoded + '?="\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"PK-data").decode() + "\r\n"
        "--XX--\r\n"
    )
    mail = tmp_path / "gbk.eml"
    mail.write_bytes(raw.encode("ascii"))

    [item] = expand_sources([mail])

    assert item.path.name == "自评表.xlsx"
    assert item.path.read_bytes() == b"PK-data"
    assert item.mail is not None and item.mail.subject == "自评"


def test_expand_eml_finds_attachments_of_forwarded_messages(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    content = make_workbook().read_bytes()
    original = make_mail({"自评表.xlsx": content}, sender="信访局 <xfj@example.cn>")
    forward = EmailMessage()
    forward["From"] = "办公室 <office@example.cn>"
    forward["Subject"] = "Fwd: 报送自评表"
    forward["Message-ID"] = "<fwd@example.cn>"
    forward.set_content("转发信访局的自评表。")
    forward.add_attachment(original)  # message/rfc822
    mail = write_eml(tmp_path / "fwd.eml", forward)

    [item] = expand_sources([mail])

    assert item.path.name == "自评表.xlsx"
    assert item.mail is not None
    assert item.mail.sender == "办公室 <office@example.cn>"
    assert item.mail.forwarded_from == "信访局 <xfj@example.cn>"


def test_expand_mail_without_workbook_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    mail = write_eml(tmp_path / "empty.eml", make_mail({}))

    [item] = expand_sources([mail])

    assert item.problem is not None
    assert "没有 .xlsx/.xls 附件" in item.problem.render("zh")
    assert item.mail is not None and item.mail.sender.startswith("财务科")


def test_expand_mbox_reads_every_message_and_numbers_clashing_names(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    content = make_workbook().read_bytes()
    box_path = tmp_path / "inbox.mbox"
    box = mailbox.mbox(box_path)
    box.add(make_mail({"自评表.xlsx": content}, sender="a@unit-a.cn", message_id="<a@x>"))
    box.add(make_mail({"自评表.xlsx": content}, sender="b@unit-b.cn", message_id="<b@x>"))
    box.flush()
    box.close()

    inputs = expand_sources([box_path], attachments_dir=tmp_path / "att")

    assert [i.path.name for i in inputs] == ["自评表.xlsx", "自评表-2.xlsx"]
    assert [i.mail.sender for i in inputs if i.mail] == ["a@unit-a.cn", "b@unit-b.cn"]
    assert [i.mail.message_number for i in inputs if i.mail] == [1, 2]


def test_expand_file_that_is_not_an_mbox_is_a_problem(tmp_path: Path) -> None:
    bogus = tmp_path / "inbox.mbox"
    bogus.write_bytes(b"\x00\x01 not mail")

    [item] = expand_sources([bogus])

    assert item.problem is not None
    assert "不是 mbox" in item.problem.render("zh")


def test_expand_folder_is_recursive_sorted_and_skips_our_own_output(tmp_path: Path) -> None:
    for name in ["b/2.xlsx", "b/1.xlsx", "a.xlsx", "a.checked.xlsx", "~$a.xlsx", "notes.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")

    inputs = expand_sources([tmp_path])

    assert [i.path.relative_to(tmp_path).as_posix() for i in inputs] == [
        "a.xlsx",
        "b/1.xlsx",
        "b/2.xlsx",
    ]


def test_expand_glob_and_duplicates_once(tmp_path: Path) -> None:
    for name in ["x1.xlsx", "x2.xlsx", "y.xlsx"]:
        (tmp_path / name).write_bytes(b"x")

    inputs = expand_sources([str(tmp_path / "x*.xlsx"), tmp_path / "x1.xlsx"])

    assert [i.path.name for i in inputs] == ["x1.xlsx", "x2.xlsx"]


@pytest.mark.parametrize(
    ("argument", "words"),
    [("missing-folder", "找不到文件或文件夹"), ("nothing-*.xlsx", "没有文件匹配")],
    ids=["missing-path", "empty-glob"],
)
def test_expand_missing_input_is_a_problem(tmp_path: Path, argument: str, words: str) -> None:
    [item] = expand_sources([str(tmp_path / argument)])

    assert item.problem is not None
    assert words in item.problem.render("zh")
