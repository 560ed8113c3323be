"""Draft replies: they parse back with the email library, answer the right mail, carry the copy."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from click.testing import CliRunner

from tests.conftest import FillWorkbook, seed_values
from tests.test_sources import make_mail, write_eml
from xlcheck.cli import cli


def _parse(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_reply_answers_the_sender_lists_findings_and_attaches_the_annotated_copy(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    wrong = make_workbook(seed_values()).read_bytes()
    original = make_mail({"自评表.xlsx": wrong}, message_id="<orig@unit.cn>")
    original["Reply-To"] = "联系人 <lianxi@unit.cn>"
    mail = write_eml(tmp_path / "in.eml", original)
    out = tmp_path / "out"

    result = CliRunner().invoke(
        cli,
        [
            "verify",
            str(mail),
            "--out-dir",
            str(out),
            "--reply",
            "--reply-from",
            "绩效科 <jx@czj.gov.cn>",
        ],
    )

    assert result.exit_code == 1, result.output
    reply = _parse(out / "自评表.reply.eml")
    assert reply["To"] == "联系人 <lianxi@unit.cn>"
    assert reply["From"] == "绩效科 <jx@czj.gov.cn>"
    assert reply["Subject"] == "Re: 报送 2023 年度部门整体支出绩效自评表"
    assert reply["In-Reply-To"] == "<orig@unit.cn>"
    assert reply["References"] == "<orig@unit.cn>"
    body = reply.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "《自评表.xlsx》发现" in text and "请修改后重新报送" in text
    assert "[错误]" in text and "评分表!" in text
    [attachment] = list(reply.iter_attachments())
    assert attachment.get_filename() == "自评表.checked.xlsx"
    assert attachment.get_content() == (out / "自评表.checked.xlsx").read_bytes()


def test_reply_for_a_clean_workbook_says_it_passed(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    mail = write_eml(tmp_path / "in.eml", make_mail({"表.xlsx": make_workbook().read_bytes()}))

    result = CliRunner().invoke(
        cli, ["verify", str(mail), "--out-dir", str(tmp_path / "o"), "--reply"]
    )

    assert result.exit_code == 0, result.output
    reply = _parse(tmp_path / "o" / "表.reply.eml")
    assert reply["To"] == "财务科 <caiwu@unit.example.cn>"
    body = reply.get_body(preferencelist=("plain",))
    assert body is not None and "校验通过，未发现问题" in body.get_content()


def test_one_reply_per_mail_with_every_workbook_and_none_for_plain_files(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    content = make_workbook().read_bytes()
    mail = write_eml(tmp_path / "two.eml", make_mail({"甲.xlsx": content, "乙.xlsx": content}))
    plain = make_workbook(name="plain.xlsx")
    out = tmp_path / "o"

    result = CliRunner().invoke(
        cli, ["verify", str(mail), str(plain), "--out-dir", str(out), "--reply"]
    )

    assert result.exit_code == 0, result.output
    replies = sorted(out.glob("*.reply.eml"))
    assert [p.name for p in replies] == ["甲.reply.eml"]
    names = [a.get_filename() for a in _parse(replies[0]).iter_attachments()]
    assert names == ["甲.checked.xlsx", "乙.checked.xlsx"]


def test_reply_keeps_the_thread_references_and_adds_the_mail_it_answers(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    original = make_mail({"表.xlsx": make_workbook().read_bytes()}, message_id="<third@unit.cn>")
    original["References"] = "<first@czj.gov.cn> <second@unit.cn>"
    original["In-Reply-To"] = "<second@unit.cn>"
    mail = write_eml(tmp_path / "in.eml", original)

    result = CliRunner().invoke(
        cli, ["verify", str(mail), "--out-dir", str(tmp_path / "o"), "--reply"]
    )

    assert result.exit_code == 0, result.output
    reply = _parse(tmp_path / "o" / "表.reply.eml")
    assert reply["In-Reply-To"] == "<third@unit.cn>"
    assert str(reply["References"]).split() == [
        "<first@czj.gov.cn>",
        "<second@unit.cn>",
        "<third@unit.cn>",
    ]
