"""Where each annotated copy of a batch goes: ``-o``, beside its workbook, or in ``--out-dir``.

No copy is ever planned onto an input (a mail carrying ``x.xlsx`` and ``x.checked.xlsx``). In
``--out-dir``, and beside attachments xlcheck extracted itself, each copy's name is reserved on
disk as the workbook is handed to a worker, so two runs sharing a folder never write one file;
an existing name there gets the next number. Beside the user's own workbooks an existing copy
is replaced only with ``--force``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from xlcheck.control_characters import escape_controls
from xlcheck.errors import OutputExistsError, XlcheckError
from xlcheck.exchange.file_names import NameAllocator, release
from xlcheck.exchange.sources import CHECKED_SUFFIX, WorkbookInput
from xlcheck.output_files import InputPaths, OutputRefusedError, check_output_path


class CopyPlan:
    """The annotated copy's path for each input of a batch.

    Args:
        output: ``-o``, the copy of a single input.
        out_dir: ``--out-dir``; None puts each copy beside its workbook.
        reserve: reserve the names in ``out_dir`` on disk (a run that writes copies).
        force: an existing copy beside a workbook (or at ``-o``) may be replaced.
    """

    def __init__(
        self,
        inputs: Sequence[WorkbookInput],
        *,
        out_dir: Path | None,
        output: Path | None = None,
        reserve: bool = False,
        force: bool = False,
    ) -> None:
        self.input_paths = InputPaths(item.path for item in inputs if item.problem is None)
        self.output = output if output is not None and len(inputs) == 1 else None
        self.out_dir = out_dir
        self.force = force
        self.reserve = reserve and self.output is None
        self.names = NameAllocator(taken=self.input_paths)
        self._refused: dict[int, XlcheckError] = {}
        self._unsettled: set[Path] = set()
        # Names beside the user's workbooks are planned up front: they are checked before work.
        self._planned = [None if self.reserves(item) else self._plan(item) for item in inputs]

    def reserves(self, item: WorkbookInput) -> bool:
        """Whether the copy of ``item`` gets a name reserved on disk when it is claimed."""
        return self.reserve and (self.out_dir is not None or item.mail is not None)

    def _folder(self, item: WorkbookInput) -> Path:
        return self.out_dir if self.out_dir is not None else item.path.parent

    def _plan(self, item: WorkbookInput) -> Path | None:
        if item.problem is not None:
            return None
        if self.output is not None:
            return self.output
        return self.names.allocate(self._folder(item), item.path.stem, CHECKED_SUFFIX)

    def target(self, index: int) -> Path | None:
        """The planned path of input ``index`` (None for a name reserved only when claimed)."""
        return self._planned[index]

    def check_before_run(self) -> None:
        """Refuse, before any work, a run that would stop on its outputs.

        Raises:
            OutputRefusedError: ``-o`` names an input, a symlink or not a regular file.
            OutputExistsError: a copy exists (at ``-o`` or beside a workbook), no ``--force``.
        """
        if self.output is not None:
            check_output_path(self.output, force=self.force, inputs=self.input_paths)
            return
        first_existing: OutputExistsError | None = None
        for index, planned in enumerate(self._planned):
            if planned is None:
                continue
            try:
                check_output_path(planned, force=self.force, inputs=self.input_paths)
            except OutputExistsError as exc:
                first_existing = first_existing or exc
            except OutputRefusedError as exc:
                self._refused[index] = exc  # a symlink beside one workbook: that row only
        if first_existing is not None:
            raise first_existing

    def claim(self, index: int, item: WorkbookInput) -> Path | None:
        """The copy's path for input ``index``, reserved on disk in ``--out-dir``.

        Raises:
            XlcheckError: the name is refused, or no name can be reserved in ``--out-dir``.
        """
        if item.problem is not None:
            return None
        if index in self._refused:
            raise self._refused[index]
        if not self.reserves(item):
            return self._planned[index]
        folder = self._folder(item)
        try:
            reserved = self.names.reserve(folder, item.path.stem, CHECKED_SUFFIX)
        except OSError as exc:
            where = escape_controls(str(folder))
            reason = exc.strerror or str(exc)
            raise XlcheckError(
                f"无法在 {where} 中创建批注副本（{reason}）",
                message_en=f"cannot create the annotated copy in {where} ({reason})",
                hint="请用 --out-dir 另选一个可写的文件夹。",
                hint_en="Choose a writable folder with --out-dir.",
            ) from exc
        self._unsettled.add(reserved)
        return reserved

    def settle(self, item: WorkbookInput, claimed: Path | None, written: Path | None) -> None:
        """Give back a reserved name the workbook's copy did not fill (it could not be read)."""
        if self.reserves(item) and claimed is not None:
            self._unsettled.discard(claimed)
            if written != claimed:
                release(claimed)

    def release_unsettled(self) -> None:
        """Give back every reserved name whose workbook never came back (an interrupted run)."""
        for claimed in self._unsettled:
            release(claimed)
        self._unsettled.clear()
