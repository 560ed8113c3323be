"""Source package + findings → the annotated package's bytes, touching only what the marks need.

Rewritten: the marked sheets (cell style references, frozen panes, the tab selection), the styles
part, comments parts and VML drawings, the workbook part, its relationships and the content types;
added: the results sheet. Every other entry is copied raw (same compressed bytes and CRC). Macros
are kept only in a macro-enabled copy (.xlsm); an .xlsx copy leaves the VBA project out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from xlcheck.annotator import comments as comment_parts
from xlcheck.annotator.marks import MarkKind
from xlcheck.annotator.package_parts import (
    COMMENTS,
    COMMENTS_TYPE,
    MACRO_SUFFIXES,
    MAIN_TYPES,
    OFFICE_DOCUMENT,
    STYLES,
    STYLES_TYPE,
    VBA_PROJECT,
    VBA_TYPE,
    VML_DRAWING,
    VML_TYPE,
    WORKSHEET,
    WORKSHEET_TYPE,
    ContentTypes,
    Relationships,
    relative,
    rels_name,
    resolve,
)
from xlcheck.annotator.results_sheet import (
    HEADER_ROW,
    RESULTS_SHEET,
    RESULTS_SHEET_EN,
    results_sheet,
)
from xlcheck.annotator.sheet_xml import Cell, NotAWorksheet, SheetPart, frozen_as
from xlcheck.annotator.styles import StylesPart
from xlcheck.annotator.workbook_xml import WorkbookPart
from xlcheck.annotator.xml_parts import XmlPartError
from xlcheck.annotator.zip_package import Entry, SourcePackage, new_entry, write_package
from xlcheck.cell_values import MAX_CELL_TEXT
from xlcheck.findings import Finding, Severity, VerificationResult

_TAB_SELECTED = re.compile(rb"<(?:\w+:)?sheetView\b[^>]*\btabSelected\s*=\s*[\"'](?:1|true)[\"']")
_VBA_PART = re.compile(r"(?:^|/)vbaProject(?:Signature\w*)?\.bin$", re.IGNORECASE)
_SHEET_DATA = re.compile(rb"<(?:\w+:)?sheetData\b")
_SEVERITY_WORDS = {"zh": ("错误", "警告", "应为"), "en": ("error", "warning", "Expected")}
#: Our own comment text stops here, below Excel's limit for a comment, with the unit's text.
_MAX_NOTE = MAX_CELL_TEXT // 2


def _before_cells(sheet: bytes) -> bytes:
    """A worksheet part up to its cells (``<sheetData``): where its views are."""
    match = _SHEET_DATA.search(sheet)
    return sheet[: match.start()] if match else sheet


@dataclass
class _Copy:
    """The parts of the copy that differ from the source: new bytes, or None to leave out."""

    changed: dict[str, bytes | None] = field(default_factory=dict)
    added: dict[str, bytes] = field(default_factory=dict)

    def taken(self, package: SourcePackage, name: str) -> bool:
        return (name in package and self.changed.get(name, b"") is not None) or name in self.added

    def free_name(self, package: SourcePackage, pattern: str) -> str:
        number = 1
        while self.taken(package, pattern.format(number)):
            number += 1
        return pattern.format(number)


def _sheet_kind(findings: Sequence[Finding]) -> MarkKind:
    """One mark for every finding at a cell: an error outranks a warning; a sheet-level mark only
    when every finding there is about the whole sheet."""
    error = any(f.severity is Severity.ERROR for f in findings)
    if all(_is_sheet_level(f) for f in findings):
        return MarkKind.SHEET_ERROR if error else MarkKind.SHEET_WARNING
    return MarkKind.ERROR if error else MarkKind.WARNING


def _is_sheet_level(finding: Finding) -> bool:
    """A finding about a whole sheet: placed at its title cell (row 1, column 1), no field."""
    location = finding.location
    return (
        location is not None
        and finding.field is None
        and (location.row_number, location.column_number) == (1, 1)
    )


def _note(findings: Sequence[Finding], lang: str) -> list[comment_parts.Run]:
    error, warning, expected = _SEVERITY_WORDS[lang]
    runs: list[comment_parts.Run] = []
    used = 0
    for number, finding in enumerate(findings):
        word = error if finding.severity is Severity.ERROR else warning
        text = finding.message_in(lang)
        shown = finding.expected_text if finding.expected_text is not None else finding.expected
        if shown is not None and shown != "":
            text += f"\n{expected}{'：' if lang == 'zh' else ': '}{shown}"
        text = text[: max(_MAX_NOTE - used, 0)]
        used += len(text)
        runs.append(
            comment_parts.Run(("\n" if number else "") + f"[{word} {finding.code}] ", bold=True)
        )
        runs.append(comment_parts.Run(text))
    return runs


class _Annotation:
    def __init__(
        self,
        source: SourcePackage,
        result: VerificationResult,
        lang: str,
        frozen: Mapping[str, tuple[int, int]],
        suffix: str,
    ) -> None:
        self.package = source
        self.result = result
        self.lang = lang
        self.frozen = frozen
        self.suffix = suffix
        self.copy = _Copy()
        self.types = ContentTypes.read(self._read("[Content_Types].xml"))
        office = Relationships.read(self._read("_rels/.rels")).of_type(OFFICE_DOCUMENT)
        self.workbook_name = resolve("", office[0].target) if office else "xl/workbook.xml"
        self.workbook = WorkbookPart(self._read(self.workbook_name))
        self.workbook_rels_name = rels_name(self.workbook_name)
        self.workbook_rels = Relationships.read(self._read_optional(self.workbook_rels_name))
        styles = self.workbook_rels.of_type(STYLES)
        self.styles_name = resolve(self.workbook_name, styles[0].target) if styles else None
        if self.styles_name is not None and self.styles_name not in self.package:
            self.styles_name = None
        self.styles = StylesPart(self._read(self.styles_name) if self.styles_name else None)
        self._vml_blocks = self._used_vml_blocks()

    def _read(self, name: str) -> bytes:
        if name not in self.package:
            raise XmlPartError(f"the package has no {name}")
        return self.package.read(name)

    def _read_optional(self, name: str) -> bytes | None:
        return self.package.read(name) if name in self.package else None

    def _used_vml_blocks(self) -> set[int]:
        blocks: set[int] = set()
        for name in self.package.names:
            if name.lower().endswith(".vml"):
                blocks |= comment_parts.id_blocks(self.package.read(name))
        return blocks

    def _take_vml_blocks(self, shapes: int) -> list[int]:
        taken: list[int] = []
        block = 1
        while len(taken) < comment_parts.blocks_needed(shapes):
            if block not in self._vml_blocks:
                taken.append(block)
                self._vml_blocks.add(block)
            block += 1
        return taken

    def _sheet_part(self, relationship_id: str) -> str | None:
        relationship = self.workbook_rels.by_id(relationship_id)
        if relationship is None or relationship.external:
            return None
        name = resolve(self.workbook_name, relationship.target)
        return name if name in self.package else None

    # The copy -------------------------------------------------------------------------------

    def build(self) -> bytes:
        self._remove_earlier_results()
        by_sheet: dict[str, list[Finding]] = {}
        for finding in self.result.findings:
            if finding.location is not None:
                by_sheet.setdefault(finding.location.sheet, []).append(finding)
        for entry in self.workbook.sheets:
            part = self._sheet_part(entry.relationship_id)
            if part is None or self.workbook.is_removed(entry.position):
                continue
            self._annotate_sheet(entry.name, part, by_sheet.get(entry.name, []))
        self._add_results_sheet()
        self._set_macros()
        if self.styles_name is None:
            self.styles_name = self.copy.free_name(self.package, "xl/styles{}.xml")
            self.workbook_rels.add(STYLES, relative(self.workbook_name, self.styles_name))
            self.types.set(self.styles_name, STYLES_TYPE)
            self.copy.added[self.styles_name] = self.styles.to_bytes()
        else:
            self.copy.changed[self.styles_name] = self.styles.to_bytes()
        self.copy.changed[self.workbook_name] = self.workbook.to_bytes()
        self._write_rels(self.workbook_rels_name, self.workbook_rels)
        self.copy.changed["[Content_Types].xml"] = self.types.to_bytes()
        return self._zip()

    def _write_rels(self, name: str, relationships: Relationships) -> None:
        if not relationships.changed:
            return
        if name in self.package:
            self.copy.changed[name] = relationships.to_bytes()
        else:
            self.copy.added[name] = relationships.to_bytes()

    def _zip(self) -> bytes:
        entries: list[Entry] = []
        for name in self.package.names:
            if name not in self.copy.changed:
                entries.append(self.package.raw_entry(name))
            elif (content := self.copy.changed[name]) is not None:
                entries.append(new_entry(name, content))
        entries.extend(new_entry(name, content) for name, content in self.copy.added.items())
        return write_package(entries)

    def _is_earlier_results(self, name: str, part: str) -> bool:
        """An earlier annotation's results sheet: our name, and "xlcheck" in its cells or, once
        an app re-saved it (the title then sits in the shared strings), in its page header."""
        return name in (RESULTS_SHEET, RESULTS_SHEET_EN) and b"xlcheck" in self.package.read(part)

    def _remove_earlier_results(self) -> None:
        for entry in self.workbook.sheets:
            part = self._sheet_part(entry.relationship_id)
            if part is None or not self._is_earlier_results(entry.name, part):
                continue
            self.workbook.remove_sheet(entry.position)
            self.workbook_rels.remove(entry.relationship_id)
            self.copy.changed[part] = None
            if rels_name(part) in self.package:
                self.copy.changed[rels_name(part)] = None
            self.types.remove(part)

    def _annotate_sheet(self, name: str, part_name: str, findings: list[Finding]) -> None:
        if not findings:
            # Only the sheet's view may change: read no further than its cells.
            head = _before_cells(self.package.head(part_name, _SHEET_DATA))
            selected = _TAB_SELECTED.search(head) is not None
            if not selected and (name not in self.frozen or frozen_as(head, self.frozen[name])):
                return
        data = self.package.read(part_name)
        unselect = _TAB_SELECTED.search(_before_cells(data)) is not None
        try:
            sheet = SheetPart(data, cells=bool(findings))
        except NotAWorksheet:
            return
        if name in self.frozen:
            sheet.freeze(*self.frozen[name])
        if unselect:
            sheet.unselect()
        at_cell: dict[Cell, list[Finding]] = {}
        for finding in findings:
            assert finding.location is not None
            cell = (finding.location.row_number, finding.location.column_number)
            at_cell.setdefault(sheet.anchor(cell), []).append(finding)
        for anchor, here in at_cell.items():
            kind = _sheet_kind(here)
            cells = (
                [anchor]
                if kind in (MarkKind.SHEET_ERROR, MarkKind.SHEET_WARNING)
                else sheet.cells_to_mark(anchor)
            )
            for cell in cells:
                sheet.set_style(cell, self.styles.marked(sheet.style_of(cell), kind))
        if at_cell:
            self._add_comments(
                sheet, part_name, {cell: _note(here, self.lang) for cell, here in at_cell.items()}
            )
        edited = sheet.to_bytes()
        if edited != data:  # frozen as the template wants and not selected: copied as stored
            self.copy.changed[part_name] = edited

    def _add_comments(
        self, sheet: SheetPart, part_name: str, notes: dict[Cell, list[comment_parts.Run]]
    ) -> None:
        relationships_name = rels_name(part_name)
        relationships = Relationships.read(self._read_optional(relationships_name))
        existing = relationships.of_type(COMMENTS)
        comments_name = resolve(part_name, existing[0].target) if existing else None
        if comments_name is not None and comments_name not in self.package:
            comments_name = None
        old_comments = self.package.read(comments_name) if comments_name else None
        if comments_name is None:
            comments_name = self.copy.free_name(self.package, "xl/comments{}.xml")
            relationships.add(COMMENTS, relative(part_name, comments_name))
        self.types.set(comments_name, COMMENTS_TYPE)
        content = comment_parts.comments_part(old_comments, notes)
        if old_comments is None:
            self.copy.added[comments_name] = content
        else:
            self.copy.changed[comments_name] = content

        drawing_id = sheet.legacy_drawing_id
        drawing = relationships.by_id(drawing_id) if drawing_id else None
        vml_name = resolve(part_name, drawing.target) if drawing and not drawing.external else None
        if vml_name is not None and vml_name not in self.package:
            vml_name = None
        old_vml = self.package.read(vml_name) if vml_name else None
        shown = comment_parts.note_cells(old_vml) if old_vml else set()
        shapes = [
            (cell, comment_parts.lines_of(runs))
            for cell, runs in sorted(notes.items())
            if cell not in shown
        ]
        if shapes or old_vml is None:
            vml = comment_parts.vml_part(old_vml, shapes, self._take_vml_blocks(len(shapes)))
            if vml_name is None:
                vml_name = self.copy.free_name(self.package, "xl/drawings/vmlDrawing{}.vml")
                sheet.add_legacy_drawing(
                    relationships.add(VML_DRAWING, relative(part_name, vml_name))
                )
                self.copy.added[vml_name] = vml
            else:
                self.copy.changed[vml_name] = vml
            if self.types.type_of(vml_name) is None:
                self.types.defaults["vml"] = VML_TYPE
        self._write_rels(relationships_name, relationships)

    def _add_results_sheet(self) -> None:
        taken = {
            s.name.lower() for s in self.workbook.sheets if not self.workbook.is_removed(s.position)
        }
        base = RESULTS_SHEET if self.lang == "zh" else RESULTS_SHEET_EN
        name, number = base, 2
        while name.lower() in taken:
            name, number = f"{base} {number}", number + 1
        part = self.copy.free_name(self.package, "xl/worksheets/xlcheck-results{}.xml")
        present = [s.name for s in self.workbook.sheets if not self.workbook.is_removed(s.position)]
        self.copy.added[part] = results_sheet(self.result, self.lang, self.styles, present)
        self.types.set(part, WORKSHEET_TYPE)
        relationship_id = self.workbook_rels.add(WORKSHEET, relative(self.workbook_name, part))
        self.workbook.add_first_sheet(name, relationship_id, f"${HEADER_ROW}:${HEADER_ROW}")

    def _set_macros(self) -> None:
        """Keep the VBA project in a macro-enabled copy; leave it out of any other."""
        self.types.set(self.workbook_name, MAIN_TYPES.get(self.suffix, MAIN_TYPES[".xlsx"]))
        if self.suffix in MACRO_SUFFIXES:
            return
        # The VBA project and its signatures: by relationship, by content type, and by name (a
        # package may hold one no relationship points to; Excel would still call it macro-enabled).
        leaving = {
            n
            for n in self.package.names
            if _VBA_PART.search(n) or (self.types.type_of(n) or "").startswith(VBA_TYPE)
        }
        for relationship in self.workbook_rels.of_type(VBA_PROJECT):
            self.workbook_rels.remove(relationship.id)
            leaving.add(resolve(self.workbook_name, relationship.target))
        for project in list(leaving):
            if rels_name(project) in self.package:
                leaving.add(rels_name(project))
                for signature in Relationships.read(self.package.read(rels_name(project))).items:
                    if not signature.external:
                        leaving.add(resolve(project, signature.target))
        for name in leaving:
            if name in self.package:
                self.copy.changed[name] = None
            self.types.remove(name)
        # A "bin" default typed as VBA goes too, unless another .bin part still relies on it.
        if self.types.defaults.get("bin") == VBA_TYPE and all(
            f"/{n}" in self.types.overrides
            for n in self.package.names
            if n.lower().endswith(".bin") and self.copy.changed.get(n, b"") is not None
        ):
            del self.types.defaults["bin"]


def annotated_package(
    source: SourcePackage,
    result: VerificationResult,
    *,
    lang: str,
    frozen: Mapping[str, tuple[int, int]],
    suffix: str,
) -> bytes:
    """The annotated copy of the package ``source``, as bytes (the source is only read).

    Raises:
        DamagedPackageError: the zip package cannot be copied.
        XmlPartError: a part the marks must rewrite is not well-formed XML (or declares a DTD).
    """
    return _Annotation(source, result, lang, frozen, suffix.lower()).build()
