"""What a file really is, told from its first bytes and its zip entry names, and the sentence
refusing it when it is not a workbook xlcheck reads."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from xlcheck.errors import WorkbookError

#: File names xlcheck reads as workbooks (.xls, .xlsb and .ods on their values only).
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

RESAVE = "请在 Excel、WPS 或 LibreOffice 中打开它并另存为 .xlsx（Excel 工作簿）后再校验。"
RESAVE_EN = (
    "Open it in Excel, WPS or LibreOffice, save it as .xlsx (Excel Workbook) and verify that file."
)
CHECK_FILE = "请检查是否发错了文件。"
CHECK_FILE_EN = "Check that this is the right file."


def refuse(
    path: Path, message: str, message_en: str, hint: str = RESAVE, hint_en: str = RESAVE_EN
) -> WorkbookError:
    """The error refusing ``path``: what it is, in one sentence, and what to do."""
    return WorkbookError(path, message, message_en=message_en, hint=hint, hint_en=hint_en)


def sniff_not_zip(path: Path, head: bytes) -> WorkbookError:
    """The error for a file that is not a zip package, naming what it looks like instead."""
    if head.startswith(ZIP_SIGNATURES):
        return refuse(
            path,
            "文件不完整或已损坏（zip 包结构缺失，可能是下载或邮件附件没有传完）",
            "the file is incomplete or damaged (its zip structure is cut off, e.g. an unfinished download)",
            "请重新下载或让填报单位重新发送原文件。",
            "Download the file again or ask the unit to send it again.",
        )
    if head.startswith(b"%PDF"):
        return refuse(
            path,
            "这是 PDF 文件，不是 Excel 工作簿",
            "this is a PDF file, not an Excel workbook",
            "请提供填好的 .xlsx 工作簿（不是打印或导出的 PDF）。",
            "Send the filled .xlsx workbook, not a PDF export.",
        )
    if head.startswith(b"{\\rtf"):
        return refuse(
            path,
            "这是 RTF 文档，不是 Excel 工作簿",
            "this is an RTF document, not an Excel workbook",
        )
    lowered = head[:4096].lower()
    if b"urn:schemas-microsoft-com:office:spreadsheet" in lowered:
        return refuse(
            path,
            "这是“XML 电子表格 2003”格式，不是 .xlsx 工作簿",
            "this is an 'XML Spreadsheet 2003' file, not an .xlsx workbook",
        )
    if b"<html" in lowered or b"<!doctype html" in lowered or b"<table" in lowered:
        return refuse(
            path,
            "这是网页（HTML）文件，只是扩展名为 .xls/.xlsx，不是 Excel 工作簿",
            "this is a web page (HTML) saved with a spreadsheet extension, not an Excel workbook",
        )
    try:
        text = head[:4096].decode("utf-8-sig")
    except UnicodeDecodeError:
        text = ""
    if text and all(ch.isprintable() or ch in "\r\n\t" for ch in text[:4000]):
        return refuse(
            path,
            "这是纯文本（CSV 等）文件，不是 Excel 工作簿：其中没有公式和模板标识，无法校验",
            "this is a plain-text (CSV or similar) file, not an Excel workbook: it has no formulas or template mark to verify",
            "请在 xlcheck template 生成的模板中填写后提交 .xlsx 文件。",
            "Fill the template made by `xlcheck template` and send that .xlsx file.",
        )
    return refuse(
        path,
        "无法识别的文件格式，不是 .xlsx 工作簿",
        "unrecognised file format, not an .xlsx workbook",
    )


def sniff_ole(path: Path, data: bytes) -> WorkbookError | None:
    """None for a legacy .xls (readable by calamine); the error for any other OLE compound file."""
    if (
        "EncryptedPackage".encode("utf-16-le") in data
        or "EncryptionInfo".encode("utf-16-le") in data
    ):
        return refuse(
            path,
            "工作簿设置了打开密码（已加密），xlcheck 无法读取",
            "the workbook is password-protected (encrypted), so xlcheck cannot read it",
            "请在 Excel 中打开，“文件 → 信息 → 保护工作簿 → 用密码进行加密”清空密码后保存，再校验。",
            "Open it in Excel, clear the password under File > Info > Protect Workbook > Encrypt with Password, save, and verify again.",
        )
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return None
    return refuse(
        path,
        "这是旧版 Office 文档（如 .doc），不是 Excel 工作簿",
        "this is a legacy Office document (e.g. .doc), not an Excel workbook",
    )


def zip_kind(path: Path, names: Collection[str], mimetype: bytes | None) -> str:
    """``xlsx``, ``xlsb`` or ``ods`` for a zip package, from its entry names ('/'-separated)
    and its OpenDocument ``mimetype`` entry (None when there is none).

    ``xlsx`` stands for every SpreadsheetML package (.xlsx, .xlsm); whether it really holds a
    workbook part is for the package check to find out.

    Raises:
        WorkbookError: another OpenDocument file, a Word or PowerPoint file, or a plain zip.
    """
    if mimetype is not None:
        if b"opendocument.spreadsheet" in mimetype:
            return "ods"
        raise refuse(
            path,
            "这是 OpenDocument 文档（不是电子表格），不是 Excel 工作簿",
            "this is an OpenDocument file that is not a spreadsheet, not an Excel workbook",
        )
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "word/document.xml" in names or "ppt/presentation.xml" in names:
        raise not_a_workbook(path, names)
    return "xlsx"


def not_a_workbook(path: Path, names: Collection[str]) -> WorkbookError:
    """The error for a zip package that holds no workbook, naming what it holds instead."""
    if "word/document.xml" in names:
        kind, kind_en = "Word 文档（.docx）", "a Word document (.docx)"
    elif "ppt/presentation.xml" in names:
        kind, kind_en = "PowerPoint 演示文稿（.pptx）", "a PowerPoint presentation (.pptx)"
    else:
        kind, kind_en = "zip 压缩包", "a zip archive"
    return refuse(
        path,
        f"这是{kind}，不是 Excel 工作簿",
        f"this is {kind_en}, not an Excel workbook",
        "请提供填好的 .xlsx 工作簿。",
        "Send the filled .xlsx workbook.",
    )
