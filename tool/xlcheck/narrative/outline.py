"""Report templates: the outline, sentences and figure labels of a 自评报告, loaded from YAML data.

A report template belongs to one workbook template (spec) id and lives beside the specs, in
``workbook_templates/reports/<spec id>.yaml``; a bureau edits it as it edits a spec. Its sentences
name field keys in braces (``{budget_total}``); ``xlcheck report draft`` fills them from the
verified workbook and ``xlcheck report check`` reads its aliases to find figures in a report.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xlcheck.errors import SpecError
from xlcheck.narrative.outline_model import BLOCK_KINDS, Block, ReportTemplate
from xlcheck.narrative.outline_references import check_references
from xlcheck.spec import Spec
from xlcheck.spec_loading import builtin_spec_dirs, read_yaml


def builtin_report_path(template_id: str) -> Path | None:
    """The built-in report template of a spec id, if one is shipped."""
    for folder in builtin_spec_dirs():
        path = folder / "reports" / f"{template_id}.yaml"
        if path.is_file():
            return path
    return None


def load_report_template(spec: Spec, outline: Path | None = None) -> ReportTemplate:
    """The report template for ``spec``: ``outline`` if given, else the built-in one.

    Raises:
        SpecError: no report template for the spec, or one that is malformed, names another
            template or references a field the spec does not have.
    """
    path = outline if outline is not None else builtin_report_path(spec.id)
    if path is None:
        raise SpecError(
            spec.id,
            "",
            f"模板 {spec.id} 没有报告模板（workbook_templates/reports/{spec.id}.yaml）；"
            "请用 --outline 指定一份",
        )
    try:
        status = path.stat()
    except OSError as exc:
        raise SpecError(path, "", f"无法读取：{exc}") from exc
    template = _parse_file(str(path), status.st_mtime_ns, status.st_size)
    if template.template != spec.id:
        raise SpecError(
            path, "template", f"这份报告模板属于 {template.template}，而工作簿模板是 {spec.id}"
        )
    check_references(template, spec)
    return template


@functools.lru_cache(maxsize=8)
def _parse_file(path_text: str, mtime_ns: int, size: int) -> ReportTemplate:
    path = Path(path_text)
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise SpecError(path, "", "报告模板应为一个映射（template、outline、aliases……）")
    return ReportTemplate(
        template=_text(raw, "template", path),
        blocks=_blocks(_list(raw, "outline", path), "outline", path),
        aliases=_word_lists(raw.get("aliases", {}), "aliases", path),
        contexts=_word_lists(raw.get("contexts", {}), "contexts", path),
        grade_words=tuple(_words(raw.get("grade_words", []), "grade_words", path)),
        counts=_word_lists(raw.get("counts", {}), "counts", path),
        needs_context=tuple(_words(raw.get("needs_context", []), "needs_context", path)),
        alt_bases=_word_lists(raw.get("alt_bases", {}), "alt_bases", path),
        source=path,
    )


def _text(raw: Mapping[str, Any], key: str, path: Path) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SpecError(path, key, "应为非空文本")
    return value


def _list(raw: Mapping[str, Any], key: str, path: Path) -> list[Any]:
    value = raw.get(key)
    if not isinstance(value, list) or not value:
        raise SpecError(path, key, "应为非空列表")
    return value


def _words(value: Any, where: str, path: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(w, str) and w for w in value):
        raise SpecError(path, where, "应为词语列表")
    return list(value)


def _word_lists(value: Any, where: str, path: Path) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise SpecError(path, where, "应为 字段键: [词语……] 的映射")
    return {str(k): tuple(_words(v, f"{where}.{k}", path)) for k, v in value.items()}


def _blocks(items: list[Any], where: str, path: Path) -> tuple[Block, ...]:
    return tuple(_block(item, f"{where}[{i}]", path) for i, item in enumerate(items))


def _block(item: Any, where: str, path: Path) -> Block:
    if item == "page_break":
        return Block("page_break", path=where)
    if not isinstance(item, dict):
        raise SpecError(path, where, "应为映射，如 {heading: 一、单位基本情况, level: 1}")
    kinds = [k for k in BLOCK_KINDS if k in item]
    if len(kinds) != 1:
        raise SpecError(path, where, f"应恰有一个块类型：{'、'.join(BLOCK_KINDS)}")
    kind = kinds[0]
    known = {kind, "level", "lead", "align", "each", "part", "empty", "when", "columns"}
    unknown = sorted(set(item) - known)
    if unknown:
        raise SpecError(path, f"{where}.{unknown[0]}", "未知的键")
    level = item.get("level", 1)
    if not isinstance(level, int) or not 1 <= level <= 3:
        raise SpecError(path, f"{where}.level", "标题级别应为 1、2 或 3")
    when = item.get("when", [])
    when = tuple(_words([when] if isinstance(when, str) else when, f"{where}.when", path))
    body = item[kind]
    each = item.get("each")
    if each is not None and not isinstance(each, str):
        raise SpecError(path, f"{where}.each", "应为文本")
    if kind == "blocks":
        if not isinstance(body, list) or not body:
            raise SpecError(path, f"{where}.blocks", "应为非空的块列表")
        return Block(
            kind, each=each, when=when, blocks=_blocks(body, f"{where}.blocks", path), path=where
        )
    if kind == "table":
        return Block(
            kind,
            table=str(body),
            columns=tuple(_words(item.get("columns", []), f"{where}.columns", path))
            if "columns" in item
            else (),
            when=when,
            path=where,
        )
    if not isinstance(body, str):
        raise SpecError(path, f"{where}.{kind}", "应为文本")
    return Block(
        kind,
        text=_joined(body),
        level=level,
        lead=str(item.get("lead", "")),
        align=str(item.get("align", "")),
        each=each,
        part=item.get("part"),
        empty=_joined(str(item.get("empty", ""))),
        when=when,
        path=where,
    )


#: Spaces between two Chinese characters: what YAML's folded lines (>-) leave where a long
#: sentence was wrapped. Chinese has no spaces between words; spaces beside figures stay.
_FOLDED_SPACE = re.compile(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])")


def _joined(text: str) -> str:
    return _FOLDED_SPACE.sub("", text.strip())
