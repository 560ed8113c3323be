"""The file system as others share it: pipes and devices named like mail, outputs aimed at inputs,
symlinks planted in the output folder, two runs at once, the umask, a run beside its own outputs."""

from __future__ import annotations

import email
import email.policy
import io
import json
import os
import stat
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

from tests.conftest import FillWorkbook
from tests.test_sources import make_mail, write_eml
from xlcheck.cli import cli
from xlcheck.cli_options import ExitCode
from xlcheck.layout import lay_out
from xlcheck.output_files import InputPaths, OutputRefusedError, check_output_path
from xlcheck.spec_loading import load_spec

UNIT_CELL = lay_out(load_spec("zhanjiang-overall")).by_key["unit_name"]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _explain(result: Result) -> str:
    return f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def xlcheck(
    *args: str, cwd: Path | None = None, umask: int | None = None
) -> subprocess.CompletedProcess[str]:
    """The real command in its own process (a FIFO must not hang the test run)."""

    def set_umask() -> None:
        if umask is not None:
            os.umask(umask)

    return subprocess.run(
        [sys.executable, "-m", "xlcheck", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        preexec_fn=set_umask if umask is not None else None,
        check=False,
    )


def _parse(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("name", ["inbox.eml", "box.mbox", "filled.xlsx"])
def test_a_fifo_named_like_an_input_is_refused_not_waited_on(
    tmp_path: Path, make_workbook: FillWorkbook, name: str
) -> None:
    good = make_workbook(name="good.xlsx")
    os.mkfifo(tmp_path / f"pipe-{name}")

    completed = xlcheck("verify", str(tmp_path), "--no-annotate", "--format", "json")

    assert completed.returncode == ExitCode.CANNOT_VERIFY, completed.stderr
    rows = {Path(r["path"]).name: r for r in json.loads(completed.stdout)["results"]}
    assert rows[good.name]["status"] == "ok"
    assert "不是普通文件" in rows[f"pipe-{name}"]["reason"]


def test_dev_zero_named_eml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "zero.eml").symlink_to("/dev/zero")

    completed = xlcheck("verify", str(tmp_path / "zero.eml"), "--no-annotate")

    assert completed.returncode == ExitCode.CANNOT_VERIFY
    assert "不是普通文件" in completed.stderr and "Traceback" not in completed.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["verify", "{in}", "-o", "{in}"],
        ["verify", "{in}", "-o", "{in}", "--force"],
        ["verify", "{in}", "--summary", "{in}", "--force"],
        ["verify", "{dir}", "--no-annotate", "--summary", "{in}", "--force"],
        ["collect", "{in}", "-o", "{in}", "--force"],
    ],
    ids=["copy", "copy-force", "summary", "summary-in-folder", "collect"],
)
def test_an_output_onto_an_input_is_refused(
    make_workbook: FillWorkbook, command: list[str]
) -> None:
    workbook = make_workbook()
    before = workbook.read_bytes()
    arguments = [a.format(**{"in": workbook, "dir": workbook.parent}) for a in command]

    result = run(*arguments)

    assert result.exit_code == ExitCode.CANNOT_VERIFY, _explain(result)
    assert "输入" in result.stderr
    assert workbook.read_bytes() == before


@pytest.mark.parametrize("given", [list, InputPaths], ids=["list", "input-paths"])
def test_an_output_hard_linked_to_an_input_is_refused(
    tmp_path: Path, given: type[list[Path]] | type[InputPaths]
) -> None:
    source = tmp_path / "in.xlsx"
    source.write_bytes(b"precious")
    other_name = tmp_path / "out.xlsx"
    os.link(source, other_name)

    with pytest.raises(OutputRefusedError):
        check_output_path(other_name, force=True, inputs=given([source]))
    assert check_output_path(other_name, force=True, inputs=given([tmp_path / "gone.xlsx"]))


def test_an_output_naming_an_input_another_way_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    inputs = InputPaths([Path("in.xlsx"), Path("other.xlsx")])

    with pytest.raises(OutputRefusedError):
        check_output_path(tmp_path / "sub" / ".." / "in.xlsx", force=False, inputs=inputs)
    assert check_output_path(tmp_path / "in.checked.xlsx", force=False, inputs=inputs) is None
    assert list(inputs) == [Path("in.xlsx"), Path("other.xlsx")] and len(inputs) == 2


def test_symlinks_planted_in_the_out_dir_are_never_followed(
    tmp_path: Path, make_workbook: FillWorkbook
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    victim_dir = tmp_path / "victim-dir"
    victim_dir.mkdir()
    mail = write_eml(tmp_path / "m.eml", make_mail({"自评表.xlsx": make_workbook().read_bytes()}))
    out = tmp_path / "out"
    (out / "attachments").mkdir(parents=True)
    for planted in ("attachments/自评表.xlsx", "自评表.checked.xlsx", "自评表.reply.eml"):
        (out / planted).symlink_to(victim)

    result = run("verify", str(mail), "--out-dir", str(out), "--reply")

    assert result.exit_code == 0, _explain(result)
    assert victim.read_text(encoding="utf-8") == "precious"
    assert all((out / p).is_symlink() for p in ("自评表.checked.xlsx", "自评表.reply.eml"))
    assert (out / "自评表-2.reply.eml").is_file() and (out / "自评表-2.checked.xlsx").is_file()

    (out / "attachments").rename(out / "old-attachments")
    (out / "attachments").symlink_to(victim_dir)
    again = run("verify", str(mail), "--out-dir", str(out))

    assert again.exit_code == ExitCode.CANNOT_VERIFY, _explain(again)
    assert list(victim_dir.iterdir()) == []


def _unit_of_copy(content: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return str(book[UNIT_CELL.sheet][UNIT_CELL.cell_ref].value)


def test_two_runs_on_one_out_dir_never_mix_units(
    tmp_path: Path, make_workbook: FillWorkbook
) -> None:
    """Two real processes, each with mails of its own unit under the same attachment names."""
    inboxes = {}
    for index, unit in enumerate(("甲单位", "乙单位")):
        content = make_workbook(name=f"{unit}.xlsx", overrides={"unit_name": unit}).read_bytes()
        inbox = tmp_path / unit
        inbox.mkdir()
        for number in range(4):
            mail = make_mail(
                {"自评表.xlsx": content},
                sender=f"{unit} <u{number}@unit{index}.cn>",
                message_id=f"<{number}@unit{index}>",
            )
            write_eml(inbox / f"{number}.eml", mail)
        inboxes[unit] = inbox
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "xlcheck",
        "verify",
        "--out-dir",
        str(out),
        "--reply",
        "-j",
        "1",
    ]

    processes = [
        subprocess.Popen([*command, str(inbox)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for inbox in inboxes.values()
    ]
    for process in processes:
        _, errors = process.communicate(timeout=300)
        assert process.returncode == 0, errors

    replies = sorted(out.glob("*.reply.eml"))
    assert len(replies) == 8
    for reply in replies:
        message = _parse(reply)
        [attachment] = message.iter_attachments()
        unit = message["To"].addresses[0].display_name
        assert _unit_of_copy(attachment.get_content()) == unit, reply.name
    copies = sorted(out.glob("*.checked.xlsx"))
    assert len(copies) == 8
    assert sorted(_unit_of_copy(c.read_bytes()) for c in copies) == ["乙单位"] * 4 + ["甲单位"] * 4


def test_outputs_take_the_users_umask(tmp_path: Path, make_workbook: FillWorkbook) -> None:
    mail = write_eml(tmp_path / "m.eml", make_mail({"表.xlsx": make_workbook().read_bytes()}))
    out = tmp_path / "out"

    completed = xlcheck(
        "verify", str(mail), "--out-dir", str(out), "--reply", "--summary", str(out / "s.csv"),
        umask=0o027,
    )  # fmt: skip

    assert completed.returncode == 0, completed.stderr
    for written in (out / "s.csv", out / "表.reply.eml", out / "attachments" / "表.xlsx"):
        assert stat.S_IMODE(written.stat().st_mode) == 0o640, written.name


def test_a_second_run_beside_its_outputs_verifies_only_the_inputs(
    tmp_path: Path, make_workbook: FillWorkbook
) -> None:
    content = make_workbook().read_bytes()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_eml(inbox / "a.eml", make_mail({"甲.xlsx": content}, message_id="<a@x>"))
    write_eml(inbox / "b.eml", make_mail({"乙.xlsx": content}, message_id="<b@x>"))
    out_inside = inbox / "checked"

    counts = []
    for arguments in ([], [], ["--out-dir", str(out_inside)], ["--out-dir", str(inbox / "again")]):
        result = run("verify", str(inbox), "--reply", "--format", "json", *arguments)
        assert result.exit_code == 0, _explain(result)
        counts.append(len(json.loads(result.stdout)["results"]))

    assert counts == [2, 2, 2, 2]


def _descendants(root: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, queue = set(), [root]
    while queue:
        parent = queue.pop()
        for pid, its_parent in parents.items():
            if its_parent == parent and pid not in found:
                found.add(pid)
                queue.append(pid)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.add(pid)
    return alive


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("signal_number", [15, 9], ids=["SIGTERM", "SIGKILL"])
def test_a_stopped_batch_leaves_no_worker_behind(
    tmp_path: Path, make_workbook: FillWorkbook, signal_number: int
) -> None:
    first = make_workbook(name="first.xlsx")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for number in range(40):
        os.link(first, inbox / f"{number:02d}.xlsx")
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "xlcheck", "verify", str(inbox), "--out-dir", str(out), "-j", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not any(p.stat().st_size for p in out.glob("*.checked.xlsx")):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.1)
    workers = _descendants(process.pid)
    assert workers

    os.kill(process.pid, signal_number)
    code = process.wait(timeout=60)

    deadline = time.monotonic() + 10  # a worker notices its batch is gone within a second
    while _alive(workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(workers)
    if signal_number == 15:
        assert code == 128 + 15
        assert all(p.stat().st_size for p in out.glob("*.checked.xlsx"))  # no empty names left
