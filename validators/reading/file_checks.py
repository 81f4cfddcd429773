"""What a file really is, from its name and first bytes, whatever its extension says.

Managers rename files: a CSV export saved as ``.xlsx``, an old ``.xls``, a
LibreOffice ``.ods``, an ``.xlsb``, a lock file copied along with the real
workbook. Everything here is cheap (magic bytes, the zip member list, the OLE
directory) and never parses cell data; :mod:`kpisheet.validators.reading.guard` decides what is
safe to read.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

# the only kinds a spreadsheet reader is ever given
XLSX = "xlsx"
XLSM = "xlsm"  # xlsx with macros: readable values, flagged
READABLE_KINDS = frozenset({XLSX, XLSM})


@dataclass(frozen=True)
class Detected:
    """A file's real type: a short ``kind`` for code and a bilingual label for messages."""

    kind: str
    label_zh: str
    label_en: str


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

_BINARY_MAGICS: tuple[tuple[bytes, Detected], ...] = (
    (b"%PDF", Detected("pdf", "PDF 文件", "a PDF file")),
    (b"\x89PNG", Detected("image", "图片（PNG）", "an image (PNG)")),
    (b"\xff\xd8\xff", Detected("image", "图片（JPEG）", "an image (JPEG)")),
    (b"GIF8", Detected("image", "图片（GIF）", "an image (GIF)")),
    (b"Rar!", Detected("archive", "RAR 压缩包", "a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", Detected("archive", "7z 压缩包", "a 7z archive")),
    (b"\x1f\x8b", Detected("archive", "gzip 压缩包", "a gzip archive")),
    (b"{\\rtf", Detected("rtf", "RTF 文档", "an RTF document")),
)

EMPTY = Detected("empty", "空文件", "an empty file")
TRUNCATED_ZIP = Detected("truncated", "不完整的压缩文件", "an incomplete (truncated) archive")
BINARY = Detected("binary", "无法识别的二进制文件", "an unrecognised binary file")
LOCK = Detected("lock", "锁文件", "a lock file")
ENCRYPTED_OOXML = Detected("encrypted", "加密的 Office 文件", "an encrypted Office file")


# The one rule for lock ("owner") files that spreadsheet programs leave beside an open workbook:
# Excel and WPS on Windows write ``~$name.xlsx`` (for a long name Excel replaces the first two
# characters: ``~$me.xlsx`` beside ``name.xlsx``); LibreOffice writes ``.~lock.name.xlsx#``;
# WPS for Linux writes ``.~name.xlsx``.


def is_lock_name(name: str) -> bool:
    """Whether a file name is a spreadsheet program's lock file (see the rule above)."""
    return (name.startswith("~$") or (name.startswith(".~lock.") and name.endswith("#"))
            or (name.startswith(".~") and not name.startswith(".~lock.") and len(name) > 2))


def owner_file_names(name: str) -> set[str]:
    """The names of the lock files a spreadsheet program puts beside the open workbook ``name``."""
    names = {f"~${name}", f".~lock.{name}#", f".~{name}"}
    if len(name) > 2:
        names.add(f"~${name[2:]}")
    return names


def owner_files(path: Path) -> list[Path]:
    """The lock files beside ``path`` that say a spreadsheet program has it open."""
    return sorted(path.with_name(name) for name in owner_file_names(path.name) if path.with_name(name).exists())


def looks_like_owner_file(data: bytes) -> bool:
    """An Excel/WPS owner file renamed: ~165 bytes, a length byte, then the user name padded to 54 bytes.

    LibreOffice's lock content is one CSV line ending in ';'.
    """
    if 150 <= len(data) <= 200 and 1 <= data[0] <= 54:
        name = data[1:1 + data[0]]
        return b"\x00" not in name and data[1 + data[0]:54].strip(b" \x00") == b""
    text = data[:512]
    return len(data) < 512 and text.count(b",") >= 3 and text.rstrip().endswith(b";") and b"\x00" not in text


def sniff_unzipped(data: bytes) -> Detected:
    """The type of a file that is not a zip archive (so not xlsx in any case)."""
    if not data:
        return EMPTY
    if data.startswith(OLE_MAGIC):
        return sniff_ole(data)
    if data.startswith(b"PK"):
        return TRUNCATED_ZIP
    for magic, detected in _BINARY_MAGICS:
        if data.startswith(magic):
            return detected
    text = _as_text(data[:8192])
    if text is None:
        return BINARY
    return _text_kind(text)


def sniff_ole(data: bytes) -> Detected:
    """An OLE2 compound file: an encrypted xlsx, a legacy .xls (maybe encrypted) or another Office file."""
    import msoffcrypto
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
        streams = {"/".join(entry).lower() for entry in ole.listdir()}
        ole.close()
    except Exception:  # a damaged container: olefile raises several types
        return Detected("ole-damaged", "已损坏的 Office 97-2003 文件", "a damaged Office 97-2003 file")
    if "encryptioninfo" in streams and "encryptedpackage" in streams:
        return ENCRYPTED_OOXML
    if "workbook" in streams or "book" in streams:
        try:
            encrypted = msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted()
        except Exception:  # a BIFF stream msoffcrypto cannot walk is still an .xls
            encrypted = False
        if encrypted:
            return Detected("xls-encrypted", "加密的旧版 Excel 97-2003 工作簿（.xls）",
                            "an encrypted legacy Excel 97-2003 workbook (.xls)")
        return Detected("xls", "旧版 Excel 97-2003 工作簿（.xls）", "a legacy Excel 97-2003 workbook (.xls)")
    if "worddocument" in streams:
        return Detected("doc", "Word 97-2003 文档（.doc）", "a Word 97-2003 document (.doc)")
    if "powerpoint document" in streams:
        return Detected("ppt", "PowerPoint 97-2003 演示文稿（.ppt）", "a PowerPoint 97-2003 presentation (.ppt)")
    return Detected("ole", "Office 97-2003 复合文件", "an Office 97-2003 compound file")


def sniff_zip(names: list[str], mimetype: bytes | None) -> Detected:
    """The type of a zip archive from its member names (matched case-insensitively, as readers do)."""
    lower = {name.lower() for name in names}
    if mimetype is not None:
        kind = mimetype.strip().decode("ascii", "replace")
        if kind == "application/vnd.oasis.opendocument.spreadsheet":
            return Detected("ods", "OpenDocument 电子表格（.ods）", "an OpenDocument spreadsheet (.ods)")
        if kind.startswith("application/vnd.oasis.opendocument"):
            return Detected("odf", "OpenDocument 文档", "an OpenDocument file")
    if "xl/workbook.bin" in lower:
        return Detected("xlsb", "Excel 二进制工作簿（.xlsb）", "an Excel binary workbook (.xlsb)")
    if "xl/workbook.xml" in lower:
        return Detected(XLSX, "Excel 工作簿（.xlsx）", "an Excel workbook (.xlsx)")
    if "word/document.xml" in lower:
        return Detected("docx", "Word 文档（.docx）", "a Word document (.docx)")
    if "ppt/presentation.xml" in lower:
        return Detected("pptx", "PowerPoint 演示文稿（.pptx）", "a PowerPoint presentation (.pptx)")
    return Detected("zip", "普通 zip 压缩包", "a plain zip archive")


def _as_text(head: bytes) -> str | None:
    """The head of a text file decoded, or None for binary data."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", "replace")
    if b"\x00" in head:
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            text = head.decode(encoding)
            break
        except UnicodeDecodeError as error:
            if error.start > len(head) - 4:  # a character cut at the end of the head
                text = head[:error.start].decode(encoding)
                break
    else:
        return None
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f")
    return text if controls <= len(text) // 100 else None


_CSV_LINE = re.compile(r"[,;\t|]")


def _text_kind(text: str) -> Detected:
    head = text.lstrip("\ufeff \r\n\t")
    lowered = head[:2048].lower()
    if lowered.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in lowered:
        return Detected("xml-spreadsheet", "XML 电子表格 2003（.xml）", "an XML Spreadsheet 2003 file")
    if lowered.startswith(("<html", "<!doctype html", "<table", "<meta")) or "<html" in lowered:
        return Detected("html", "网页文件（HTML，常见于“导出为 Excel”）", "a web page (HTML, typical of 'export to Excel')")
    if lowered.startswith("<"):
        return Detected("xml", "XML 文件", "an XML file")
    lines = [line for line in head.splitlines()[:20] if line.strip()]
    if lines and sum(1 for line in lines if _CSV_LINE.search(line)) >= max(1, len(lines) // 2):
        return Detected("csv", "CSV/文本表格（逗号或制表符分隔）", "a CSV/text table (comma or tab separated)")
    return Detected("text", "纯文本文件", "a plain text file")
