"""The workbook part of the copy: the results sheet added first, an earlier one taken out.

Inserting a sheet at the front shifts every sheet's position, and SpreadsheetML refers to sheets
by position in two places: ``definedName/@localSheetId`` (print areas, print titles, local names)
and ``workbookView/@activeTab`` (and ``firstSheet``). Both are renumbered here; everything else
in the part stays as it was written.
"""

from __future__ import annotations

from xlcheck.annotator.xml_parts import (
    RELATIONSHIP_NAMESPACE,
    Element,
    XmlPartError,
    as_utf8,
    escape_attribute,
    escape_text,
    opened,
    parse_shared,
    prefix_of,
    splice,
    start_tag,
    with_attributes,
)
from xlcheck.part_memo import PartMemo
from xlcheck.records import record

#: workbook children that come after definedNames, in schema order.
_AFTER_DEFINED_NAMES = (
    "calcPr",
    "oleSize",
    "customWorkbookViews",
    "pivotCaches",
    "smartTagPr",
    "smartTagTypes",
    "webPublishing",
    "fileRecoveryPr",
    "webPublishObjects",
    "extLst",
)


#: A workbook part's new bytes, by its bytes and what the copy changes in it: the copies of one
#: template's workbooks add the same results sheet to the same workbook part, so a batch worker
#: renumbers its print areas and titles once (about 0.6 M instructions a copy, callgrind).
_WRITTEN: PartMemo[tuple[bytes, frozenset[int], tuple[str, str, str] | None], bytes] = PartMemo(
    limit=64, largest=1 << 16
)


@record
class SheetEntry:
    """A sheet as the workbook part lists it, at its 0-based position."""

    position: int
    name: str
    sheet_id: int
    relationship_id: str
    hidden: bool


class WorkbookPart:
    def __init__(self, data: bytes) -> None:
        self.data = as_utf8(data)
        self.root = parse_shared(self.data, depth=2)
        self.prefix = prefix_of(self.data, self.root)
        sheets = self.root.child("sheets")
        if sheets is None:
            raise XmlPartError("workbook without sheets")
        self._sheets_element = sheets
        self._sheet_elements = sheets.all("sheet")
        self.sheets = [
            SheetEntry(
                position,
                e.attributes.get("name", ""),
                int(e.attributes["sheetId"]) if e.attributes.get("sheetId", "").isdigit() else 0,
                e.attributes.get(f"{RELATIONSHIP_NAMESPACE} id", ""),
                e.attributes.get("state", "visible") != "visible",
            )
            for position, e in enumerate(self._sheet_elements)
        ]
        self._removed: set[int] = set()
        self._added: tuple[str, str, str] | None = None

    def remove_sheet(self, position: int) -> None:
        """Take an earlier results sheet out (its local names go with it)."""
        self._removed.add(position)

    def is_removed(self, position: int) -> bool:
        return position in self._removed

    def add_first_sheet(self, name: str, relationship_id: str, print_titles: str) -> None:
        """Add a sheet at the front, selected, with ``print_titles`` (``$7:$7``) as its print titles."""
        self._added = (name, relationship_id, print_titles)

    def _new_position(self, old: int) -> int | None:
        if old in self._removed:
            return None
        shift = 1 if self._added else 0
        return old - sum(1 for r in self._removed if r < old) + shift

    def to_bytes(self) -> bytes:
        key = (self.data, frozenset(self._removed), self._added)
        return _WRITTEN.recall(key, self._edited, lambda _: len(self.data))

    def _edited(self) -> bytes:
        edits: list[tuple[int, int, bytes]] = []
        p = self.prefix
        for position in self._removed:
            removed = self._sheet_elements[position]
            edits.append((removed.start, removed.end, b""))
        if self._added is not None:
            name, relationship_id, _ = self._added
            sheet_id = max((s.sheet_id for s in self.sheets), default=0) + 1
            new_sheet = (
                f'<{p}sheet name="{escape_attribute(name)}" sheetId="{sheet_id}" '
                f'xmlns:r="{RELATIONSHIP_NAMESPACE}" r:id="{relationship_id}"/>'
            ).encode()
            first = (
                self._sheet_elements[0].start
                if self._sheet_elements
                else self._close(self._sheets_element)
            )
            edits.append((first, first, new_sheet))
        self._defined_name_edits(edits)
        self._view_edits(edits)
        return splice(self.data, edits)

    def _close(self, element: Element) -> int:
        return self.data.rfind(b"</", element.start, element.end)

    def _defined_name_edits(self, edits: list[tuple[int, int, bytes]]) -> None:
        p = self.prefix
        names = self.root.child("definedNames")
        for element in names.all("definedName") if names else ():
            local = element.attributes.get("localSheetId")
            if local is None or not local.isdigit():
                continue
            position = self._new_position(int(local))
            if position is None:
                edits.append((element.start, element.end, b""))
            elif position != int(local):
                tag = with_attributes(
                    start_tag(self.data, element), {"localSheetId": str(position)}
                )
                edits.append((element.start, element.tag_end, tag))
        if self._added is None:
            return
        name, _, titles = self._added
        reference = "'" + name.replace("'", "''") + "'!" + titles
        titles_name = (
            f'<{p}definedName name="_xlnm.Print_Titles" localSheetId="0">'
            f"{escape_text(reference)}</{p}definedName>"
        ).encode()
        if names is None:
            following = next(
                (c.start for c in self.root.children if c.name in _AFTER_DEFINED_NAMES),
                self._close(self.root),
            )
            edits.append(
                (
                    following,
                    following,
                    f"<{p}definedNames>".encode() + titles_name + f"</{p}definedNames>".encode(),
                )
            )
        elif names.is_empty:
            closing = f"</{p}definedNames>".encode()
            edits.append(
                (
                    names.start,
                    names.end,
                    opened(start_tag(self.data, names)) + titles_name + closing,
                )
            )
        else:
            first = names.children[0].start if names.children else self._close(names)
            edits.append((first, first, titles_name))

    def _view_edits(self, edits: list[tuple[int, int, bytes]]) -> None:
        if self._added is None and not self._removed:
            return
        views = self.root.child("bookViews")
        view = views.child("workbookView") if views else None
        if view is None:
            if self._added is None:
                return
            p = self.prefix
            element = f'<{p}bookViews><{p}workbookView activeTab="0"/></{p}bookViews>'.encode()
            edits.append((self._sheets_element.start, self._sheets_element.start, element))
            return
        if self._added is not None:
            changes: dict[str, str | None] = {"activeTab": "0", "firstSheet": None}
        else:
            active = view.attributes.get("activeTab", "0")
            moved = self._new_position(int(active)) if active.isdigit() else 0
            changes = {"activeTab": str(moved or 0), "firstSheet": None}
        edits.append(
            (view.start, view.tag_end, with_attributes(start_tag(self.data, view), changes))
        )
