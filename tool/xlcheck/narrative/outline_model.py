"""What a report template is: its outline's blocks, what ``each:`` repeats over and what a
block's ``{…}`` references stand for in one repetition, and the key patterns of its words
(``outline`` loads a template from YAML and checks it against its spec)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import field
from pathlib import Path

from xlcheck.narrative.repeats import (
    Instance,
    indicator_blocks,
    repeats,
    scoring_block,
    table_sheets,
)
from xlcheck.records import record
from xlcheck.spec import Spec

#: Block kinds a report template's outline may use (``blocks``: a group of blocks, repeated as
#: one with ``each``, e.g. a whole report part per project).
BLOCK_KINDS = ("title", "heading", "paragraph", "placeholder", "table", "page_break", "blocks")
#: What ``each:`` may repeat a block over, besides the key of a table, of an indicators block or
#: of a sheet written once per item.
REPEATS = ("parts", "deductions")
#: Placeholders in text: ``{field key}``, ``{count:table}``, ``{list:table.column}``, and in a
#: repeated block its item words (``{part}``, ``{indicator}`` …) and keys with ``*`` for the item.
REFERENCE = re.compile(r"\{([^{}]+)\}")
#: Text the unit must write, inside a sentence: ``[[财政局通知文号]]``.
UNIT_TEXT = re.compile(r"\[\[(.+?)\]\]")


@record
class Block:
    """One element of the outline (see the comment header of a report template).

    Attributes:
        kind: one of ``BLOCK_KINDS``.
        text: the sentence(s), with ``{…}`` references and ``[[…]]`` unit text.
        level: heading level (1–3).
        lead: bold words before a paragraph's text (机构设置：).
        align: ``center`` or empty.
        each: repeat the block per scoring part, per deduction, per filled row of a table or of an
            indicators block, or per instance of a sheet written once per item (``project``).
        part: only that 评分表 part's (``each: parts``/``deductions``), or that 一级指标's rows
            (``each: <indicators key>``/``deductions`` on an indicators block).
        empty: text written instead when ``each`` has nothing to repeat over.
        when: keys that must have values for the block to be written at all.
        table: for tables, a table's or a grid block's key, or ``scoring``.
        columns: for a table's or a grid's table, the column keys shown, in order.
        blocks: for ``blocks``, the blocks of the group.
        path: where the block is in the YAML file, for error messages.
    """

    kind: str
    text: str = ""
    level: int = 1
    lead: str = ""
    align: str = ""
    each: str | None = None
    part: str | None = None
    empty: str = ""
    when: tuple[str, ...] = ()
    table: str | None = None
    columns: tuple[str, ...] = ()
    blocks: tuple[Block, ...] = ()
    path: str = ""


@record
class ReportTemplate:
    """A workbook template's report: outline to draft, and the words to find its figures by.

    Keys in ``aliases``, ``contexts`` and ``alt_bases`` may hold ``*`` for any one key segment
    (``project[*].funds.total.executed``: that field of every project; ``project[*].funds.*.rate``).

    Attributes:
        template: the spec id it belongs to.
        blocks: the outline, in order.
        aliases: field key → the other words reports use for it (the spec's label always counts).
        contexts: field key, or the key of a group of fields (a grid row such as
            ``project[*].funds.appropriation``) → words that, written before a figure, say it is
            this field's (年初预算 for the budget line 基本支出 against the spending figure 基本支出).
        grade_words: words that introduce a grade (自评等级为…, 自评优秀).
        counts: table key or repeat key → nouns counted ("主要支出项目…等 7 项").
        needs_context: aliases that name a field only after one of its context words (合计 is
            the budget total only in a paragraph about 年初预算).
        alt_bases: rate field key → other fields a report may wrongly divide by (执行率 on the
            年初预算数 instead of the 全年预算数), besides the spec's own ``alt_bases``; a ``[*]``
            in a base stands for the rate's own instance.
    """

    template: str
    blocks: tuple[Block, ...]
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    contexts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    grade_words: tuple[str, ...] = ()
    counts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    needs_context: tuple[str, ...] = ()
    alt_bases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    source: Path | None = None


def key_pattern(pattern: str, *, group: bool = False) -> re.Pattern[str]:
    """A key with ``*`` (any one key segment) as a regular expression; ``group``: the key of a
    group of fields also matches the fields under it (``funds.total`` → ``funds.total.rate``)."""
    body = r"[^.]*".join(map(re.escape, pattern.split("*")))
    return re.compile(f"{body}(?:\\..+)?" if group else body)


def in_instance_of(pattern: str, key: str) -> str:
    """``pattern`` with its ``[*]`` standing for ``key``'s instance: ``project[*].funds.total.initial``
    beside ``project[2].funds.total.rate`` is ``project[2].funds.total.initial``."""
    instance = re.match(r"[^\[.]+\[\d+\]", key)
    if "[*]" not in pattern or instance is None:
        return pattern
    return pattern.replace(pattern.partition("[*]")[0] + "[*]", instance.group(0), 1)


@record
class Binding:
    """What a block's references stand for in one repetition of its ``each``.

    Attributes:
        star: what ``*`` stands for: the instance's number, a table's row number, an indicator
            row's key (``project[1].indicators.quantity[2]``, so ``{*.score}``), a part's or a
            评分表 indicator's key (``{subtotal.*}``).
        words: the item words (``{part}``, ``{indicator}``, ``{deducted}``, ``{number}`` …).
        instance: the instance of a sheet written once per item the block is inside of: its
            ``{project[*].…}`` keys are that instance's, in nested repetitions too.
    """

    star: str | None = None
    words: Mapping[str, str] = field(default_factory=dict)
    instance: Instance | None = None

    def key(self, reference: str) -> str:
        """The field key ``reference`` names in this repetition."""
        if self.instance is not None:
            own = f"{self.instance.repeat}[*]."
            if reference.startswith(own):
                reference = self.instance.prefix + reference[len(own) :]
        return reference.replace("*", self.star) if self.star is not None else reference


def alt_bases_of(template: ReportTemplate, keys: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The template's ``alt_bases`` for the rate fields among ``keys``, each base in the rate's
    own instance (``project[2].funds.total.rate`` → ``project[2].funds.total.initial``)."""
    found: dict[str, tuple[str, ...]] = {}
    for pattern, bases in template.alt_bases.items():
        regex = key_pattern(pattern)
        for key in keys:
            if regex.fullmatch(key):
                found[key] = (*found.get(key, ()), *(in_instance_of(b, key) for b in bases))
    return found


def each_kind(spec: Spec, each: str) -> str | None:
    """What ``each: <each>`` repeats over in ``spec``: ``parts``, ``deductions``, ``instances``,
    ``table`` or ``indicators``; None when the spec has nothing of that name."""
    if each in REPEATS:
        return each
    if each in repeats(spec):
        return "instances"
    if each in indicator_blocks(spec):
        return "indicators"
    if each in table_sheets(spec):
        return "table"
    return None


def deduction_source(spec: Spec) -> str:
    """Where ``each: deductions`` finds its indicators: the 评分表, else an indicators block."""
    return "scoring" if scoring_block(spec) is not None else "indicators"
