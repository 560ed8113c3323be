"""What a report states: a figure with the field it names, a grade with the project it is about."""

from __future__ import annotations

from xlcheck.narrative.figures import Figure, sentence_span
from xlcheck.narrative.report_text import ReportParagraph
from xlcheck.records import record


@record
class Mention:
    """A stated figure and what it states.

    Attributes:
        key: the field key it states (``count:projects`` for a count of table rows), or None.
        words: the label as written before it.
        part_of: for a share (占 72.44%), the mention of the figure it is a share of.
    """

    paragraph: ReportParagraph
    text: str
    figure: Figure
    key: str | None
    words: str | None = None
    part_of: Mention | None = None

    @property
    def sentence(self) -> str:
        start, end = sentence_span(self.text, self.figure.start)
        return self.text[start:end].strip()

    @property
    def written(self) -> str:
        """The figure as written: 1,133.49 万元."""
        return self.text[self.figure.start : self.figure.end].strip()


@record
class GradeMention:
    """A stated grade; ``scope``: the instance (project) it is about, if known."""

    paragraph: ReportParagraph
    text: str
    start: int
    grade: str
    written: str
    scope: int | None = None

    @property
    def sentence(self) -> str:
        start, end = sentence_span(self.text, self.start)
        return self.text[start:end].strip()
