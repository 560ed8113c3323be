"""Every key a report template names exists in its spec, so a draft never writes a dangling {key}
and a figure's words never point at a field the spec does not have."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from xlcheck.errors import SpecError
from xlcheck.layout import Layout, lay_out
from xlcheck.narrative.outline_model import (
    REFERENCE,
    Binding,
    Block,
    ReportTemplate,
    deduction_source,
    each_kind,
    in_instance_of,
    key_pattern,
)
from xlcheck.narrative.repeats import (
    Instance,
    grid_blocks,
    indicator_blocks,
    repeats,
    scoring_block,
    table_sheets,
)
from xlcheck.spec import Spec

#: The item words a repetition gives its blocks, by what it repeats over.
ITEM_WORDS = {
    "instances": ("number",),
    "table": ("number",),
    "parts": ("part", "number"),
    "deductions": ("indicator", "deducted", "part", "number"),
    "indicator_deductions": ("indicator", "deducted", "level", "group", "number"),
    "indicators": ("indicator", "level", "group", "number"),
}


def item_words(spec: Spec, each: str | None) -> tuple[str, ...]:
    """The item words ``each: <each>`` binds (``{part}``, ``{indicator}``, ``{number}`` …)."""
    kind = each_kind(spec, each) if each is not None else None
    if kind == "deductions" and deduction_source(spec) == "indicators":
        kind = "indicator_deductions"
    return ITEM_WORDS.get(kind or "", ())


def check_references(template: ReportTemplate, spec: Spec) -> None:
    """Raises SpecError (file and key path) at the first key the template names that the spec
    does not have."""
    _References(template, spec).check()


class _References:
    def __init__(self, template: ReportTemplate, spec: Spec):
        self.template = template
        self.spec = spec
        self.layout: Layout = lay_out(spec)
        self.source: Path | str = template.source or template.template
        self.keys = self.layout.by_key
        self.tables = table_sheets(spec)
        self.grids = grid_blocks(spec)
        self.repeats = repeats(spec)
        self.scoring = scoring_block(spec)
        self.indicators = indicator_blocks(spec)

    def fail(self, where: str, message: str) -> SpecError:
        return SpecError(self.source, where, message)

    def check(self) -> None:
        for kind in ("aliases", "contexts", "alt_bases"):
            for pattern in getattr(self.template, kind):
                regex = key_pattern(pattern, group=kind == "contexts")
                if not any(regex.fullmatch(key) for key in self.keys):
                    raise self.fail(
                        f"{kind}.{pattern}", f"模板 {self.template.template} 没有字段 {pattern}"
                    )
        self._alt_bases()
        for key in self.template.counts:
            if key not in self.tables and key not in self.repeats:
                raise self.fail(f"counts.{key}", f"模板没有键为 {key} 的表格或按项重复的表")
        for block in self.template.blocks:
            self._block(block, Binding())

    def _alt_bases(self) -> None:
        for pattern, bases in self.template.alt_bases.items():
            regex = key_pattern(pattern)
            for key in (k for k in self.keys if regex.fullmatch(k)):
                derive = self.keys[key].spec.derive
                if derive is None or derive.verb != "ratio":
                    raise self.fail(f"alt_bases.{pattern}", f"{key} 不是比率（ratio）字段")
                for base in bases:
                    if in_instance_of(base, key) not in self.keys:
                        raise self.fail(f"alt_bases.{pattern}", f"没有字段 {base}")

    def _block(self, block: Block, outer: Binding) -> None:
        where = block.path
        kind = each_kind(self.spec, block.each) if block.each is not None else None
        if block.each is not None and kind is None:
            names = (*("parts", "deductions"), *self.tables, *self.indicators, *self.repeats)
            raise self.fail(f"{where}.each", f"只能是 {'、'.join(names)}")
        if kind == "parts" and self.scoring is None:
            raise self.fail(f"{where}.each", "模板没有评分表")
        if kind == "deductions" and self.scoring is None and not self.indicators:
            raise self.fail(f"{where}.each", "模板没有评分表或指标表")
        self._part(block, kind)
        binding = self._sample(block, kind, outer)
        for reference in [*REFERENCE.findall(block.text), *REFERENCE.findall(block.empty)]:
            self._reference(reference, binding, block.each, where)
        for key in block.when:
            if binding.key(key) not in self.keys:
                raise self.fail(f"{where}.when", f"没有字段 {key}")
        if block.kind == "table":
            self._table(block)
        for inner in block.blocks:
            self._block(inner, binding)

    def _part(self, block: Block, kind: str | None) -> None:
        if block.part is None:
            return
        if kind in ("parts", "deductions") and self.scoring is not None:
            known = [p.key for p in self.scoring.parts]
        elif kind in ("indicators", "deductions"):
            blocks = [self.indicators[block.each]] if kind == "indicators" and block.each else []
            blocks = blocks or list(self.indicators.values())
            known = [level.key for b in blocks for level in b.levels]
        else:
            raise self.fail(f"{block.path}.part", "part 只用于 each: parts、deductions 或指标表")
        if block.part not in known:
            raise self.fail(
                f"{block.path}.part", f"没有部分 {block.part}（可用：{'、'.join(known)}）"
            )

    def _sample(self, block: Block, kind: str | None, outer: Binding) -> Binding:
        """A binding like the block's first repetition, to resolve its references with."""
        instance = outer.instance
        words = dict.fromkeys(item_words(self.spec, block.each), "1")
        if kind is None:
            return outer
        if kind == "instances":
            assert block.each is not None
            sample = Instance(block.each, 1, block.each)
            return Binding("1", words, sample)
        prefix = instance.prefix if instance is not None else ""
        star: str | None = "1"
        if kind == "parts" and self.scoring is not None:
            star = self.scoring.parts[0].key
        elif kind == "deductions" and self.scoring is not None:
            star = next((i.key for p in self.scoring.parts for i in p.indicators), "1")
        elif kind in ("indicators", "deductions"):
            chosen = self.indicators.get(block.each or "") or next(iter(self.indicators.values()))
            group = chosen.levels[0].groups[0].key
            star = f"{prefix}{chosen.key}.{group}[1]"
        return Binding(star, words, instance)

    def _reference(self, reference: str, binding: Binding, each: str | None, where: str) -> None:
        if reference in binding.words:
            return
        if ":" in reference:
            verb, _, argument = reference.partition(":")
            name, _, column = argument.partition(".")
            if verb == "count" and not column and (name in self.tables or name in self.repeats):
                return
            if verb == "list" and column in self._columns(name):
                return
            raise self.fail(where, f"无法识别的引用 {{{reference}}}")
        if "*" in reference and binding.star is None and binding.instance is None:
            raise self.fail(where, f"{{{reference}}} 中的 * 只能用在 each 块里")
        if binding.key(reference) not in self.keys:
            raise self.fail(where, f"引用了不存在的字段 {{{reference}}}")

    def _columns(self, name: str) -> set[str]:
        """What ``{list:<name>.<column>}`` may list: a table's columns, a repeated sheet's fields."""
        if name in self.tables:
            return {c.key for c in self.tables[name].columns}
        if name in self.repeats:
            prefix = f"{name}[1]."
            return {k.removeprefix(prefix) for k in self.keys if k.startswith(prefix)}
        return set()

    def _table(self, block: Block) -> None:
        known = self._table_columns(block.table or "")
        if known is None:
            raise self.fail(f"{block.path}.table", f"没有表格 {block.table}")
        for column in block.columns:
            if column not in known:
                raise self.fail(f"{block.path}.columns", f"表格没有列 {column}")

    def _table_columns(self, table: str) -> Mapping[str, object] | None:
        if table == "scoring" and self.scoring is not None:
            return {}
        if table in self.tables:
            return {c.key: c for c in self.tables[table].columns}
        if table in self.grids:
            return {c.field.key: c for c in self.grids[table].columns}
        return None


def walk(blocks: tuple[Block, ...]) -> Iterator[Block]:
    """Every block of an outline, groups' blocks included, in order."""
    for block in blocks:
        yield block
        yield from walk(block.blocks)
