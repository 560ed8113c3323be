"""Exceptions raised when xlcheck cannot do its job (never for problems in the workbook)."""

from __future__ import annotations

from pathlib import Path


class XlcheckError(Exception):
    """Base of every error xlcheck reports instead of a result.

    Args:
        message: one sentence in Chinese: what went wrong and where.
        hint: optional one line: what to do about it.
        message_en: the same sentence in English, for ``--lang en``.
        hint_en: the hint in English.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        message_en: str | None = None,
        hint_en: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.message_en = message_en or message
        self.hint_en = hint_en or hint

    def render(self, lang: str = "zh") -> str:
        """The message and hint as one or two lines in the chosen language."""
        message, hint = (
            (self.message_en, self.hint_en) if lang == "en" else (self.message, self.hint)
        )
        return f"{message}\n{hint}" if hint else message

    def render_line(self, lang: str = "zh") -> str:
        """The message and hint as one line of whole sentences, for a table row or batch report."""
        stop = "." if lang == "en" else "。"
        sentences = [
            line if line.endswith(("。", ".", "！", "!", "？", "?")) else line + stop
            for line in self.render(lang).splitlines()
            if line
        ]
        return (" " if lang == "en" else "").join(sentences)

    def reason_for(self, path: Path, lang: str = "zh") -> str:
        """``render_line`` for a row that already names ``path`` (the file is not named twice)."""
        return self.render_line(lang)


class SpecError(XlcheckError):
    """A template spec is missing, malformed or inconsistent.

    Args:
        path: the spec file.
        key_path: where in the spec, e.g. ``sheets[1].rows[3].type``.
        problem: what is wrong there.
    """

    def __init__(self, path: Path | str, key_path: str, problem: str) -> None:
        where = f"{path}: {key_path}" if key_path else str(path)
        super().__init__(
            f"模板规格有误（{where}）：{problem}",
            message_en=f"Invalid template spec ({where}): {problem}",
            hint="请修改该规格文件后重试。",
            hint_en="Fix the spec file and try again.",
        )
        self.path = Path(path)
        self.key_path = key_path
        self.problem = problem


class FileProblemError(XlcheckError):
    """An error about one file; both messages begin with the file's name."""

    def __init__(
        self,
        path: Path | str,
        message: str,
        *,
        hint: str | None = None,
        message_en: str | None = None,
        hint_en: str | None = None,
    ) -> None:
        super().__init__(
            f"{Path(path).name}：{message}",
            hint=hint,
            message_en=f"{Path(path).name}: {message_en or message}",
            hint_en=hint_en,
        )
        self.path = Path(path)
        self._unnamed = XlcheckError(message, hint=hint, message_en=message_en, hint_en=hint_en)

    def reason_for(self, path: Path, lang: str = "zh") -> str:
        if Path(path).name == self.path.name:
            return self._unnamed.render_line(lang)
        return self.render_line(lang)


class WorkbookError(FileProblemError):
    """A workbook could not be opened, read or written (``sheet`` names where, when known)."""

    def __init__(
        self,
        path: Path | str,
        message: str,
        *,
        hint: str | None = None,
        message_en: str | None = None,
        hint_en: str | None = None,
        sheet: str | None = None,
    ) -> None:
        super().__init__(path, message, hint=hint, message_en=message_en, hint_en=hint_en)
        self.sheet = sheet


class TemplateMismatchError(FileProblemError):
    """The workbook was not built from the template (or template version) it is checked against."""


class OutputExistsError(XlcheckError):
    """The annotated copy would overwrite a file and ``force`` was not given."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"输出文件已存在：{path}",
            hint="加 --force 覆盖，或用 -o 指定另一个文件名。",
            message_en=f"Output file already exists: {path}",
            hint_en="Add --force to overwrite it, or choose another name with -o.",
        )
        self.path = path
