"""Fuzz: valid workbooks mutated at the byte, zip and XML level never escape as a traceback.

``XLCHECK_FUZZ_CASES`` sets the number of cases (default 2,000, about 40 s on 2 cores);
``XLCHECK_FUZZ_SEED`` the seed. Every case must end as a result with a status in {ok, warnings,
errors, unreadable} (exit code 0, 1 or 3), and every unreadable reason must be a sentence. Any
other exception fails the test with its case number, mutator and traceback.
"""

from __future__ import annotations

import collections
import os
import random
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import correct_seed_values, fill_cells, seed_values
from tests.fuzz_mutations import mutate
from xlcheck import api, write_template
from xlcheck.cli_options import exit_code_for
from xlcheck.errors import XlcheckError

CASES = int(os.environ.get("XLCHECK_FUZZ_CASES", "2000"))
SEED = int(os.environ.get("XLCHECK_FUZZ_SEED", "20240728"))
#: Every n-th case also writes the annotated copy (the rest verify only, to keep the run short).
ANNOTATE_EVERY = 20
WORKERS = 2


def _bases(folder: Path) -> list[bytes]:
    """A correct fill, the seed's fill with its planted errors, and one with text in number cells."""
    variants = [
        correct_seed_values(),
        seed_values(),
        {
            **correct_seed_values(),
            "budget_basic": "1,234.5",
            "staff_in_service": "三十",
            "reason.goal_reasonable": "=1+1 文本",
        },
    ]
    bases = []
    for number, values in enumerate(variants):
        path = folder / f"base-{number}.xlsx"
        write_template(path, force=True)
        fill_cells(path, values)
        bases.append(path.read_bytes())
    return bases


def _run_case(args: tuple[int, bytes, str]) -> tuple[int, str, str, str]:
    """(case, mutator, status, detail): detail is the reason, or the traceback of a bug."""
    case, base, folder = args
    rng = random.Random(SEED * 1_000_003 + case)
    mutator, data = mutate(rng, base)
    path = Path(folder) / f"case-{case}.xlsx"
    path.write_bytes(data)
    options = api.VerifyOptions(annotate=case % ANNOTATE_EVERY == 0, force=True, lang="en")
    try:
        result = api.verify_workbook(path, options=options)
    except XlcheckError as exc:
        return case, mutator, "unreadable", exc.render("en").replace("\n", " ")
    except Exception:  # the point of a fuzzer: report every escape as a bug, with its traceback
        return case, mutator, "BUG", traceback.format_exc()
    finally:
        for leftover in Path(folder).glob(f"case-{case}.*"):
            leftover.unlink()
    return case, mutator, result.status, ""


def _is_sentence(reason: str) -> bool:
    return (
        bool(reason)
        and "Traceback" not in reason
        and reason.rstrip().endswith((".", "。", ")", "）"))
    )


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_fuzz_mutated_workbooks_never_escape(tmp_path: Path) -> None:
    bases = _bases(tmp_path)
    tasks = [(case, bases[case % len(bases)], str(tmp_path)) for case in range(CASES)]
    with ProcessPoolExecutor(max_workers=WORKERS) as pool:
        outcomes = list(pool.map(_run_case, tasks, chunksize=25))
    counts = collections.Counter(status for _, _, status, _ in outcomes)
    by_mutator = collections.Counter((mutator, status) for _, mutator, status, _ in outcomes)
    print(f"\nfuzz: {CASES} cases, seed {SEED}: {dict(counts)}")
    print("by mutator: " + ", ".join(f"{m}/{s}={n}" for (m, s), n in sorted(by_mutator.items())))
    bugs = [o for o in outcomes if o[2] == "BUG"]
    signatures = sorted({bug[3].strip().splitlines()[-1][:120] for bug in bugs})
    assert not bugs, (
        f"{len(bugs)} uncaught exceptions in cases {[bug[0] for bug in bugs]}; kinds: {signatures}; "
        f"first, case {bugs[0][0]} ({bugs[0][1]}):\n{bugs[0][3]}"
    )
    assert set(counts) <= {"ok", "warnings", "errors", "unreadable"}
    assert {exit_code_for([status]) for status in counts} <= {0, 1, 3}
    bad_reasons = [o for o in outcomes if o[2] == "unreadable" and not _is_sentence(o[3])]
    assert not bad_reasons, bad_reasons[:3]
    assert counts["unreadable"] < CASES, (
        "every case unreadable: the mutations never reach the parsers"
    )
