"""Mail from anyone: no mail stops the batch, each one that cannot be read is one row with one
sentence, and the other workbooks, the summary and the replies still come out."""

from __future__ import annotations

import email
import email.policy
import json
import os
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

from tests.conftest import FillWorkbook
from tests.hostile_inputs import (
    encoded_word,
    mailbox_of,
    many_attachments,
    nested_forwards,
    newsletters,
    raw_mail,
)
from tests.test_sources import make_mail, write_eml
from xlcheck.cli import cli
from xlcheck.cli_options import ExitCode
from xlcheck.exchange.file_names import NAME_MAX_BYTES
from xlcheck.exchange.mail_attachments import (
    MAX_MAIL_BYTES,
    MAX_MAIL_PARTS,
    MAX_NESTING,
    MAX_WORKBOOKS_PER_MAIL,
)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _explain(result: Result) -> str:
    return f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def _parse(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.fixture
def workbook(make_workbook: FillWorkbook) -> bytes:
    return make_workbook().read_bytes()


def _batch_with(tmp_path: Path, hostile: bytes, workbook: bytes) -> tuple[Result, Path]:
    """The hostile mail between two good ones, verified with summary and replies."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_eml(inbox / "1-good.eml", make_mail({"甲.xlsx": workbook}, message_id="<g1@x>"))
    (inbox / "2-hostile.eml").write_bytes(hostile)
    write_eml(inbox / "3-good.eml", make_mail({"乙.xlsx": workbook}, message_id="<g3@x>"))
    out = tmp_path / "out"
    summary = out / "汇总表.json"
    result = run(
        "verify", str(inbox), "--out-dir", str(out), "--reply", "--summary", str(summary),
        "--format", "json", "-j", "2",
    )  # fmt: skip
    return result, out


def _rows(result: Result) -> list[dict[str, object]]:
    rows = json.loads(result.stdout)["results"]
    assert isinstance(rows, list)
    return rows


HOSTILE_MAILS: dict[str, tuple[Callable[[], bytes], str]] = {
    "forwards-nested-past-the-cap": (lambda: nested_forwards(MAX_NESTING + 5, b"Subject: x\r\n\r\nhi"), "转发嵌套"),
    "forwards-nested-1200-deep": (lambda: nested_forwards(1200, b"Subject: x\r\n\r\nhi"), "嵌套"),
    "20000-tiny-attachments": (lambda: many_attachments(20_000), "超过"),
    "more-parts-than-the-cap": (lambda: many_attachments(MAX_MAIL_PARTS + 1, suffix=".txt"), "部分超过"),
    "not-a-mail-at-all": (lambda: os.urandom(4096), ""),
}  # fmt: skip


@pytest.mark.parametrize("name", list(HOSTILE_MAILS), ids=list(HOSTILE_MAILS))
def test_a_hostile_mail_is_one_row_and_the_batch_goes_on(
    tmp_path: Path, workbook: bytes, name: str
) -> None:
    build, words = HOSTILE_MAILS[name]

    result, out = _batch_with(tmp_path, build(), workbook)

    rows = _rows(result)
    assert [r["status"] for r in rows if r["status"] == "ok"] == ["ok", "ok"], _explain(result)
    assert (out / "汇总表.json").exists()
    assert sorted(p.name for p in out.glob("*.reply.eml")) == ["乙.reply.eml", "甲.reply.eml"]
    hostile = [r for r in rows if r["status"] == "unreadable"]
    if words:
        assert len(hostile) == 1 and words in str(hostile[0]["reason"]), _explain(result)
    assert "Traceback" not in result.stderr and "内部错误" not in result.stdout


def test_caps_stay_in_their_documented_order() -> None:
    assert MAX_WORKBOOKS_PER_MAIL < MAX_MAIL_PARTS and MAX_NESTING < 100
    assert MAX_MAIL_BYTES >= 27 * 1_048_576  # a 20 MB workbook in base64


def test_a_mail_over_the_size_cap_is_refused_without_being_read(tmp_path: Path) -> None:
    mail = tmp_path / "huge.eml"
    with mail.open("wb") as handle:
        handle.truncate(MAX_MAIL_BYTES + 1)  # sparse: costs no disk and no time

    result = run("verify", str(mail), "--no-annotate")

    assert result.exit_code == ExitCode.CANNOT_VERIFY, _explain(result)
    assert "超过上限" in result.stderr


def test_control_characters_and_nul_in_an_attachment_name(tmp_path: Path, workbook: bytes) -> None:
    name = "自评\x00表\x1b[31m\u202e.xlsx"
    mail = tmp_path / "m.eml"
    mail.write_bytes(raw_mail({"From": "a@unit.cn", "Message-ID": "<c@x>"}, {name: workbook}))
    out = tmp_path / "out"

    result = run("verify", str(mail), "--out-dir", str(out), "--reply")

    assert result.exit_code == 0, _explain(result)
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    [extracted] = [p for p in (out / "attachments").iterdir() if p.suffix == ".xlsx"]
    assert not set(extracted.name) & {"\x00", "\x1b", "\u202e", "/", "\\"}
    [reply] = out.glob("*.reply.eml")
    assert [a.get_filename() for a in _parse(reply).iter_attachments()] == [
        extracted.stem + ".checked.xlsx"
    ]


def test_300_character_names_with_reply(tmp_path: Path, workbook: bytes) -> None:
    name = "湛江市" + "部门整体支出绩效自评" * 30 + ".xlsx"  # 303 characters, 907 bytes
    mail = write_eml(tmp_path / "long.eml", make_mail({name: workbook}, message_id="<l@x>"))
    out = tmp_path / "out"

    result = run("verify", str(mail), "--out-dir", str(out), "--reply")

    assert result.exit_code == 0, _explain(result)
    written = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name.rsplit(".", 2)[-2] for p in written if "xlsx" in p.name} >= {"checked"}
    assert all(len(os.fsencode(p.name)) <= NAME_MAX_BYTES for p in written)
    [reply] = out.glob("*.reply.eml")
    [attached] = _parse(reply).iter_attachments()
    assert attached.get_content() == next(out.glob("*.checked.xlsx")).read_bytes()


def test_a_file_name_whose_copy_name_would_not_fit(make_workbook: FillWorkbook) -> None:
    """The input's name fits the file system (250 bytes); ``<name>.checked.xlsx`` would not."""
    stem = "自" * ((250 - len(".xlsx")) // 3)
    path = make_workbook(name=stem + ".xlsx")
    assert len(os.fsencode(path.name)) <= NAME_MAX_BYTES

    result = run("verify", str(path))

    assert result.exit_code == 0, _explain(result)
    [copy] = path.parent.glob("*.checked.xlsx")
    assert len(os.fsencode(copy.name)) <= NAME_MAX_BYTES
    assert openpyxl.load_workbook(copy).sheetnames[0] == "校验结果"


@pytest.mark.parametrize("header", ["From", "Reply-To"])
def test_cr_lf_inside_an_encoded_display_name(tmp_path: Path, workbook: bytes, header: str) -> None:
    sneaky = encoded_word("财务科\r\nBcc: spy@evil.example\r\n")
    headers = {"From": "unit@a.cn", "Subject": encoded_word("报送\x1b[2J"), "Message-ID": "<x@a>"}
    headers[header] = f"{sneaky} <reply@a.cn>"
    mail = tmp_path / "m.eml"
    mail.write_bytes(raw_mail(headers, {"表.xlsx": workbook}))
    out = tmp_path / "out"

    result = run("verify", str(mail), "--out-dir", str(out), "--reply")

    assert result.exit_code == 0, _explain(result)
    assert "\x1b" not in result.stdout
    reply = _parse(out / "表.reply.eml")
    assert [a.addr_spec for a in reply["To"].addresses] == ["reply@a.cn"]
    assert "Bcc" not in reply and b"spy@evil.example>" not in (out / "表.reply.eml").read_bytes()


def test_a_mail_carrying_x_and_x_checked(tmp_path: Path, make_workbook: FillWorkbook) -> None:
    """Both are the unit's files: both are verified, and no copy lands on either."""
    first = make_workbook(name="first.xlsx").read_bytes()
    second = make_workbook(name="second.xlsx", overrides={"unit_name": "另一单位"}).read_bytes()
    mail = write_eml(tmp_path / "m.eml", make_mail({"x.xlsx": first, "x.checked.xlsx": second}))

    for out_dir in ([], ["--out-dir", str(tmp_path / "out")]):
        result = run("verify", str(mail), "--format", "json", *out_dir)

        assert result.exit_code == 0, _explain(result)
        rows = _rows(result)
        assert len(rows) == 2
        paths = [Path(str(r["path"])) for r in rows]
        copies = [Path(str(r["annotated"])) for r in rows]
        assert [p.read_bytes() for p in paths] == [first, second]  # inputs untouched
        assert len(set(copies)) == 2 and not set(copies) & set(paths)


def test_mbox_newsletters_are_counted_not_listed_and_get_no_reply(
    tmp_path: Path, workbook: bytes
) -> None:
    box = mailbox_of(
        tmp_path / "inbox.mbox",
        [*newsletters(30), make_mail({"自评表.xlsx": workbook}, message_id="<u@x>")],
    )
    out = tmp_path / "out"

    text = run("verify", str(box), "--out-dir", str(out), "--reply")
    as_json = run("verify", str(box), "--no-annotate", "--format", "json")

    assert text.exit_code == 0, _explain(text)
    assert "另有 30 封邮件没有工作簿附件" in text.stdout
    assert [p.name for p in out.glob("*.reply.eml")] == ["自评表.reply.eml"]
    document = json.loads(as_json.stdout)
    assert len(document["results"]) == 1 and document["mails_without_workbook"] == 30


def test_one_bad_message_in_an_mbox_leaves_the_others(tmp_path: Path, workbook: bytes) -> None:
    box = mailbox_of(
        tmp_path / "inbox.mbox",
        [
            make_mail({"甲.xlsx": workbook}, message_id="<a@x>"),
            many_attachments(MAX_WORKBOOKS_PER_MAIL + 1),
            make_mail({"乙.xlsx": workbook}, message_id="<b@x>"),
        ],
    )

    result = run("verify", str(box), "--no-annotate", "--format", "json")

    assert result.exit_code == ExitCode.CANNOT_VERIFY, _explain(result)
    assert [r["status"] for r in _rows(result)] == ["ok", "unreadable", "ok"]
    assert "第 2 封" in str(_rows(result)[1]["reason"])


def test_raw_gbk_subject_is_read_as_chinese(tmp_path: Path, workbook: bytes) -> None:
    """Some Chinese mail clients put GBK bytes straight into headers, unencoded."""
    raw = raw_mail({"From": "a@unit.cn", "Subject": "SUBJECT"}, {"表.xlsx": workbook})
    mail = tmp_path / "gbk.eml"
    mail.write_bytes(raw.replace(b"SUBJECT", "报送自评表".encode("gbk")))

    result = run("verify", str(mail), "--no-annotate", "--format", "json")

    assert result.exit_code == 0, _explain(result)
    assert _rows(result)[0]["mail"]["subject"] == "报送自评表"  # type: ignore[index]
