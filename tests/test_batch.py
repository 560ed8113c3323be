"""Batch verification: parallel and ordered, never-colliding names, worst exit code, mail origin."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import xlcheck
from tests.conftest import FillWorkbook, seed_values
from tests.test_sources import make_mail, write_eml
from xlcheck.api import VerifyOptions, start_batch, verify_batch, write_template
from xlcheck.cli import cli
from xlcheck.errors import XlcheckError
from xlcheck.exchange import fork_server, worker_pool
from xlcheck.exchange.batch import plan_annotated_paths
from xlcheck.exchange.batch_task import Task, verify_one
from xlcheck.exchange.fork_server import default_jobs
from xlcheck.exchange.sources import WorkbookInput


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _explain(result: Result) -> str:
    return f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def test_verify_batch_in_parallel_keeps_input_order(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    clean = make_workbook(name="a-clean.xlsx")
    wrong = make_workbook(seed_values(), name="b-wrong.xlsx")
    broken = tmp_path / "c-broken.xlsx"
    broken.write_bytes(b"not a zip")
    clean2 = make_workbook(name="d-clean.xlsx")

    results = verify_batch([clean, wrong, broken, clean2], jobs=2, out_dir=tmp_path / "out")

    assert [r.path.name for r in results] == [
        "a-clean.xlsx",
        "b-wrong.xlsx",
        "c-broken.xlsx",
        "d-clean.xlsx",
    ]
    assert [r.status for r in results] == ["ok", "errors", "unreadable", "ok"]
    # The row names the file; its reason says what is wrong without naming it again.
    reason = results[2].unreadable_reason
    assert reason and "不是 Excel 工作簿" in reason and "c-broken.xlsx" not in reason
    assert results[0].annotated == tmp_path / "out" / "a-clean.checked.xlsx"
    assert results[0].all_values["budget_total"] == 1133.49


def test_a_worker_sends_back_the_values_its_batch_needs(make_workbook: FillWorkbook) -> None:
    item = WorkbookInput(make_workbook(seed_values()))
    options = VerifyOptions(annotate=False)

    every = verify_one(Task(item, options, link_patterns=None))  # collect: every value
    linked = verify_one(Task(item, options, link_patterns={"zhanjiang-overall": r"budget_.*"}))
    unlinked = verify_one(Task(item, options, link_patterns={}))  # nothing links

    assert every.all_values["budget_total"] == 1133.49 and len(every.locations) > 20
    assert linked.all_values and set(linked.all_values) < set(every.all_values)
    assert set(linked.locations) == set(linked.all_values)
    assert unlinked.all_values == {} and unlinked.locations == {}
    # The same findings and key figures whatever comes back.
    assert every.findings == linked.findings == unlinked.findings
    assert every.values == unlinked.values and every.values["budget"] == 1133.49


def test_verify_batch_same_attachment_names_never_collide(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    content = make_workbook().read_bytes()
    first = write_eml(tmp_path / "1.eml", make_mail({"自评表.xlsx": content}, sender="a@a.cn"))
    second = write_eml(tmp_path / "2.eml", make_mail({"自评表.xlsx": content}, sender="b@b.cn"))
    out = tmp_path / "out"

    results = verify_batch([first, second], jobs=2, out_dir=out)

    assert [r.annotated for r in results] == [
        out / "自评表.checked.xlsx",
        out / "自评表-2.checked.xlsx",
    ]
    assert [r.path for r in results] == [
        out / "attachments" / "自评表.xlsx",
        out / "attachments" / "自评表-2.xlsx",
    ]
    assert [r.mail.sender for r in results if r.mail] == ["a@a.cn", "b@b.cn"]
    assert all(p.exists() for r in results for p in (r.path, r.annotated) if p)


def test_plan_annotated_paths_beside_each_workbook_by_default(tmp_path: Path) -> None:
    inputs = [WorkbookInput(tmp_path / "a.xlsx"), WorkbookInput(tmp_path / "a.xlsm")]

    assert plan_annotated_paths(inputs, out_dir=None) == [
        tmp_path / "a.checked.xlsx",
        tmp_path / "a-2.checked.xlsx",
    ]


def test_verify_batch_in_one_process_matches_parallel(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    """Different workbooks, so results mixed up between workers would show."""
    paths = [
        make_workbook(name="a.xlsx"),
        make_workbook(seed_values(), name="b.xlsx"),
        make_workbook(name="c.xlsx", overrides={"unit_name": "丙单位", "staff_quota": "二十"}),
        make_workbook(name="d.xlsx", overrides={"unit_name": "丁单位"}),
    ]
    broken = tmp_path / "e.xlsx"
    broken.write_bytes(b"PK broken")
    paths.append(broken)
    options = VerifyOptions(annotate=False)

    serial = verify_batch(paths, options=options, jobs=1)
    parallel = verify_batch(paths, options=options, jobs=3)

    assert len({json.dumps(r.to_dict(), sort_keys=True) for r in serial}) == len(paths)
    assert [r.to_dict() for r in serial] == [r.to_dict() for r in parallel]
    assert [r.values.get("unit") for r in parallel][2:4] == ["丙单位", "丁单位"]


def test_verify_batch_survives_a_worker_killed_midway(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    """A worker that dies (out of memory, a crash in a library) takes only itself down: the
    workbooks it had in hand are verified again, one by one."""
    paths = [make_workbook(name=f"{n:02d}.xlsx") for n in range(8)]
    killed: list[int] = []

    def kill_a_worker(done: int, total: int) -> None:
        if done == 1 and not killed:
            for child in multiprocessing.active_children():
                assert child.pid is not None
                os.kill(child.pid, signal.SIGKILL)
                killed.append(child.pid)

    results = verify_batch(
        paths, options=VerifyOptions(annotate=False), jobs=2, progress=kill_a_worker
    )

    assert killed
    assert [r.path for r in results] == paths
    assert [r.status for r in results] == ["ok"] * len(paths)


def test_a_task_that_cannot_reach_a_worker_is_its_own_row(make_workbook: FillWorkbook) -> None:
    class LocalError(XlcheckError):  # a local class cannot be pickled for the worker
        pass

    paths = [make_workbook(name=f"{n:02d}.xlsx") for n in range(3)]
    options = VerifyOptions(annotate=False)
    odd = WorkbookInput(paths[1], problem=LocalError("odd"))
    tasks = [Task(WorkbookInput(paths[0]), options), Task(odd, options)]
    tasks.append(Task(WorkbookInput(paths[2]), options))

    results = [result for _, result in worker_pool.in_parallel(iter(tasks), 2)]

    assert [r.path for r in results] == paths
    assert [r.status for r in results] == ["ok", "unreadable", "ok"]
    assert "内部错误" in (results[1].unreadable_reason or "")


def test_cli_verify_exit_code_is_the_worst_over_all_files(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    clean = make_workbook(name="clean.xlsx")
    wrong = make_workbook(seed_values(), name="wrong.xlsx")
    out = str(tmp_path / "out")

    errors = run("verify", str(clean), str(wrong), "--out-dir", out, "--no-annotate")
    unreadable = run("verify", str(clean), str(wrong), str(tmp_path / "gone"), "--no-annotate")

    assert errors.exit_code == 1, _explain(errors)
    assert unreadable.exit_code == 3, _explain(unreadable)
    assert "找不到文件或文件夹" in unreadable.stderr
    assert "共 3 个工作簿" in unreadable.stdout


def test_cli_verify_folder_of_mails_json_names_mail_and_sender(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_eml(inbox / "m.eml", make_mail({"自评表.xlsx": make_workbook().read_bytes()}))

    result = run(
        "verify", str(inbox), "--out-dir", str(tmp_path / "out"), "--format", "json", "-j", "2"
    )

    assert result.exit_code == 0, _explain(result)
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    [entry] = json.loads(result.stdout)["results"]
    assert entry["mail"]["sender"] == "财务科 <caiwu@unit.example.cn>"
    assert entry["mail"]["attachment"] == "自评表.xlsx"
    assert entry["mail"]["file"] == str(inbox / "m.eml")
    assert {"path", "template", "status", "errors", "warnings", "annotated", "findings"} <= set(
        entry
    )


def test_cli_verify_existing_copy_in_out_dir_is_kept_and_the_new_one_numbered(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    workbook = make_workbook()
    out = tmp_path / "out"
    out.mkdir()
    (out / "filled.checked.xlsx").write_bytes(b"old")

    result = run("verify", str(workbook), "--out-dir", str(out))

    assert result.exit_code == 0, _explain(result)
    assert (out / "filled.checked.xlsx").read_bytes() == b"old"
    assert str(out / "filled-2.checked.xlsx") in result.stdout
    assert zipfile.is_zipfile(out / "filled-2.checked.xlsx")


def test_cli_verify_output_with_many_inputs_is_a_usage_error(make_workbook: FillWorkbook) -> None:
    workbook = make_workbook()

    result = run("verify", str(workbook), str(workbook), "-o", "x.xlsx")

    assert result.exit_code == 2, _explain(result)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this system")
def test_default_jobs_are_the_cores_this_process_may_use() -> None:
    """Not the machine's count: a container or `taskset -c 0` leaves one core."""
    code = (
        "import os; os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]}); "
        "from xlcheck.exchange.fork_server import default_jobs; print(default_jobs())"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert completed.stdout.strip() == "1"
    assert default_jobs() == len(os.sched_getaffinity(0))


_FORK_SERVER_STARTED = (
    "import sys, multiprocessing.forkserver as f; "
    "from xlcheck.exchange.fork_server import start_worker_server; "
    "start_worker_server(int(sys.argv[1])); "
    "print(f._forkserver._forkserver_pid is not None)"
)


@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="no fork server here"
)
@pytest.mark.parametrize(("jobs", "started"), [(2, "True"), (1, "False")])
def test_the_fork_server_starts_early_only_for_several_workers(jobs: int, started: str) -> None:
    """Its imports then run beside the parent's; a batch verified in one process needs none."""
    completed = subprocess.run(
        [sys.executable, "-c", _FORK_SERVER_STARTED, str(jobs)],
        capture_output=True,
        text=True,
        check=True,
    )

    assert completed.stdout.strip() == started


def test_verify_starts_workers_early_only_for_more_than_one_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xlcheck import cli as cli_module

    asked: list[int | None] = []
    monkeypatch.setattr(worker_pool, "start_first_workers", asked.append)
    single = tmp_path / "one.xlsx"
    single.write_bytes(b"not a workbook")

    assert not cli_module._more_than_one_workbook((str(single),))
    CliRunner().invoke(cli, ["verify", str(single), "--no-annotate"])
    assert asked == []
    for sources in ([str(tmp_path)], [str(tmp_path / "*.xlsx")], [str(single), str(single)]):
        assert cli_module._more_than_one_workbook(tuple(sources))
    CliRunner().invoke(cli, ["verify", str(tmp_path), "--no-annotate", "-j", "2"])
    assert asked == [2]


#: Starts a batch's first workers (argv[1]: "thread" with another thread running), prints
#: whether they were forked from this process and whether a fork server was started, then ends them.
_FIRST_WORKERS = """
import os, sys, threading, time
import multiprocessing.forkserver as f
from xlcheck.exchange import worker_pool
if sys.argv[1] == "thread":
    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
worker_pool.start_first_workers(2)
started = [w.process for w in worker_pool._started]
parents = [int(open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()[1]) for p in started]
print(len(started), all(parent == os.getpid() for parent in parents), f._forkserver._forkserver_pid is not None)
worker_pool.end_started_workers()
print(worker_pool._started, [p.exitcode for p in started])
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="forked from the command line on Linux"
)
def test_the_first_workers_are_forked_from_the_command_line() -> None:
    """No fork server (nor its resource tracker) to wait for at start-up; and they end when the
    batch turns out to need none."""
    completed = subprocess.run(
        [sys.executable, "-c", _FIRST_WORKERS, "alone"], capture_output=True, text=True, check=True
    )

    assert completed.stdout.splitlines() == ["2 True False", "[] [0, 0]"]


@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="no fork server here"
)
def test_beside_another_thread_the_first_workers_come_from_the_fork_server() -> None:
    """A fork would copy the other thread half-way through whatever it was doing."""
    completed = subprocess.run(
        [sys.executable, "-c", _FIRST_WORKERS, "thread"], capture_output=True, text=True, check=True
    )

    assert completed.stdout.splitlines() == ["0 True True", "[] []"]


@pytest.mark.parametrize(("count", "jobs"), [(1, "2"), (2, "3"), (3, "2")])
def test_workers_started_ahead_are_used_or_ended(
    make_workbook: FillWorkbook, tmp_path: Path, count: int, jobs: str
) -> None:
    """A folder of one workbook is verified in this process; more workers than workbooks end
    unused. None is left running after the command."""
    folder = tmp_path / "in"
    folder.mkdir()
    for number in range(count):
        make_workbook(seed_values(), name=f"in/unit-{number}.xlsx")

    result = run("verify", str(folder), "--no-annotate", "-j", jobs, "--format", "json")

    assert result.exit_code == 1, _explain(result)  # the seed's total of 101
    assert [r["status"] for r in json.loads(result.stdout)["results"]] == ["errors"] * count
    assert worker_pool._started == []
    assert multiprocessing.active_children() == []


#: Runs xlcheck's entry point with argv[1:] beside a daemon thread (a benchmark's sampler); says on
#: stderr whether the exit handlers ran with every worker ended, and whether the interpreter was
#: torn down (a module global's finaliser).
_EXIT_PROBE = """
import atexit, multiprocessing, sys, threading, time
from xlcheck.cli import main
sys.argv = ["xlcheck", *sys.argv[1:]]
threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()  # as a sampler's

class TornDown:
    def __del__(self):
        sys.__stderr__.write("torn down\\n")

def report_workers():
    sys.__stderr__.write(f"exit handlers ran; workers left: {len(multiprocessing.active_children())}\\n")

kept = TornDown()
atexit.register(report_workers)  # before multiprocessing's own handler: it runs after it
main()
"""


def _python(*arguments: str) -> subprocess.CompletedProcess[str]:
    """This interpreter run on ``arguments`` with the xlcheck under test, its output captured."""
    return subprocess.run(
        [sys.executable, *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(xlcheck.__file__).parent.parent)},
    )


def test_a_batch_ends_its_workers_then_leaves_without_tearing_down(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    """Tearing the interpreter down costs a batch tens of milliseconds: the command leaves
    through ``os._exit`` once the exit handlers (multiprocessing's among them) have run."""
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(3):
        make_workbook(name=f"{n:02d}.xlsx").rename(folder / f"{n:02d}.xlsx")
    completed = _python("-c", _EXIT_PROBE, "verify", str(folder), "--no-annotate", "-j", "2")

    assert completed.returncode == 0, completed.stderr
    assert "exit handlers ran; workers left: 0" in completed.stderr
    assert "torn down" not in completed.stderr


def test_a_thread_the_shutdown_waits_for_still_finishes_before_the_command_leaves() -> None:
    probe = (
        "import sys, threading, time; from xlcheck.cli import main; sys.argv = ['xlcheck', '--help']\n"
        "def late(): time.sleep(0.2); sys.__stderr__.write('thread finished\\n')\n"
        "threading.Thread(target=late).start(); main()"
    )
    completed = _python("-c", probe)

    assert completed.returncode == 0, completed.stderr
    assert "thread finished" in completed.stderr


def test_the_fork_server_is_started_before_the_first_worker_is_renewed(
    make_workbook: FillWorkbook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first workers are forked from the command line; their successors come from the fork
    server, asked for ahead so that a renewal does not wait for its imports."""
    monkeypatch.setattr(worker_pool, "WORKBOOKS_PER_WORKER", 4)
    monkeypatch.setattr(worker_pool, "_SERVER_AHEAD", 2)
    asked: list[tuple[int, int]] = []
    started = fork_server.start_worker_server

    def note(jobs: int | None) -> None:
        asked.append((jobs or 0, len(multiprocessing.active_children())))
        started(jobs)

    monkeypatch.setattr(worker_pool, "start_worker_server", note)
    path = make_workbook(name="one.xlsx")
    options = VerifyOptions(annotate=False)
    tasks = [Task(WorkbookInput(path), options, {}) for _ in range(9)]

    worker_pool.start_first_workers(2)
    results = [result for _, result in worker_pool.in_parallel(iter(tasks), 2)]

    assert [r.status for r in results] == ["ok"] * 9
    assert asked[:1] == [(2, 2)]  # asked while the two first workers alone were running


def test_a_batch_reads_an_own_spec_as_it_is_now(tmp_path: Path) -> None:
    """Workers come from one fork server for the life of a process: a spec given with -t is
    read as the file is when the batch runs, not as an earlier batch of this process saw it."""
    spec = tmp_path / "mini.yaml"
    body = (
        'id: mini\nversion: "1"\ntitle: {title}\nyear: 2023\nsheets:\n  - name: 表\n'
        "    layout: form\n    rows:\n      - {{key: a, label: A, type: amount}}\n"
    )
    spec.write_text(body.format(title="第一版"), encoding="utf-8")
    paths = [write_template(tmp_path / f"{n}.xlsx", template=spec) for n in range(3)]
    options = VerifyOptions(template=spec, annotate=False)

    first = verify_batch(paths, options=options, jobs=2)
    spec.write_text(body.format(title="第二版，改过"), encoding="utf-8")
    second = verify_batch(paths, options=options, jobs=2)

    assert [r.template.title for r in first if r.template] == ["第一版"] * 3
    assert [r.template.title for r in second if r.template] == ["第二版，改过"] * 3


def test_an_interrupted_batch_leaves_no_empty_reserved_copies(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    paths = [make_workbook(name=f"{n:02d}.xlsx") for n in range(6)]
    out = tmp_path / "out"
    run_ = start_batch(paths, jobs=2, out_dir=out)

    results = run_.__iter__()
    next(results)
    results.close()  # what a Ctrl-C or a closed pipe does to the stream

    assert all(p.stat().st_size > 0 for p in out.glob("*.checked.xlsx"))
    assert len(list(out.glob("*.checked.xlsx"))) >= 1


def test_workers_are_renewed_and_results_stay_in_order(
    make_workbook: FillWorkbook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fresh workers every few workbooks (every 1,000 in real runs): nothing lost or reordered."""
    monkeypatch.setattr(worker_pool, "WORKBOOKS_PER_WORKER", 2)
    paths = [
        make_workbook(name=f"{n:02d}.xlsx", overrides={"unit_name": f"单位{n}"}) for n in range(9)
    ]
    workers: set[int] = set()

    def note_workers(done: int, total: int) -> None:
        workers.update(p.pid for p in multiprocessing.active_children() if p.pid)

    results = verify_batch(
        paths, options=VerifyOptions(annotate=False), jobs=2, progress=note_workers
    )

    assert [r.values.get("unit") for r in results] == [f"单位{n}" for n in range(9)]
    assert len(workers) > 2
