"""The patient's record as a PDF: the sections of `record_summary`, on A4 pages.

Written with pydyf (pure Python, no dependencies) in the PDF's standard Helvetica, which
every reader has, so nothing is embedded; that font has the Windows-1252 characters, and
any other character prints as "?". Lines are wrapped with Helvetica's own glyph widths.
"""

from __future__ import annotations

import io
import json
from importlib.resources import files

import pydyf

from .record_summary import Section

PAGE_WIDTH, PAGE_HEIGHT = 595.28, 841.89  # A4, in points
MARGIN = 56
LABEL_WIDTH = 130
GAP = 8
BODY = 9.5
LEADING = 1.3  # line height, in font sizes

REGULAR, BOLD = "F1", "F2"
_FONTS = {REGULAR: "Helvetica", BOLD: "Helvetica-Bold"}


def _glyph_widths() -> tuple[int, dict[str, tuple[int, ...]]]:
    """The first code and, by font key, the glyph widths (thousandths of the font size) of
    Windows-1252 codes from it to 255, from Adobe's metrics for the standard fonts."""
    metrics = json.loads(
        files(__package__).joinpath("fonts/helvetica_widths.json").read_text("utf-8")
    )
    widths = metrics["widths"]
    return metrics["first_code"], {key: tuple(widths[name]) for key, name in _FONTS.items()}


_FIRST_CODE, _WIDTHS = _glyph_widths()


def record_pdf(*, title: str, subtitle: str, sections: list[Section]) -> bytes:
    pages = _Pages()
    pages.paragraph(title, BOLD, 18)
    pages.paragraph(subtitle, REGULAR, BODY)
    for section in sections:
        pages.space(14)
        pages.keep(4 * BODY * LEADING)  # a section's title is not left alone at a page's foot
        pages.paragraph(section.title, BOLD, 13)
        if not section.entries:
            pages.paragraph(section.if_empty, REGULAR, BODY)
        for entry in section.entries:
            pages.space(6)
            pages.keep(3 * BODY * LEADING)
            pages.paragraph(entry.heading, BOLD, 10.5)
            for label, text in entry.lines:
                pages.labelled(label, text)
    return _write(pages.pages, title)


class _Pages:
    """Text placed line by line down the pages: (x, y, font, size, text) per line."""

    def __init__(self) -> None:
        self.pages: list[list[tuple[float, float, str, float, str]]] = []
        self._new_page()

    def _new_page(self) -> None:
        self.pages.append([])
        self.y = PAGE_HEIGHT - MARGIN

    def space(self, points: float) -> None:
        self.y -= points

    def keep(self, height: float) -> None:
        """Start a new page unless `height` still fits on this one."""
        if self.y - height < MARGIN:
            self._new_page()

    def paragraph(self, text: str, font: str, size: float) -> None:
        for line in _wrap(text, font, size, PAGE_WIDTH - 2 * MARGIN):
            self._line([(MARGIN, font, line)], size)

    def labelled(self, label: str, text: str) -> None:
        """A label in bold in its own column, the text beside it; both wrap."""
        text_x = MARGIN + LABEL_WIDTH + GAP
        labels = _wrap(label, BOLD, BODY, LABEL_WIDTH)
        texts = _wrap(text, REGULAR, BODY, PAGE_WIDTH - MARGIN - text_x)
        for row in range(max(len(labels), len(texts))):
            cells = [(MARGIN, BOLD, labels[row])] if row < len(labels) else []
            if row < len(texts):
                cells.append((text_x, REGULAR, texts[row]))
            self._line(cells, BODY)

    def _line(self, cells: list[tuple[float, str, str]], size: float) -> None:
        self.keep(size * LEADING)
        self.y -= size * LEADING
        for x, font, text in cells:
            self.pages[-1].append((x, self.y, font, size, text))


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """`text` in lines no wider than `width`: at spaces, inside a word only if it must."""
    lines: list[str] = []
    for paragraph in _printable(text).split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if _width(candidate, font, size) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while _width(word, font, size) > width:
                cut = _fitting(word, font, size, width)
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def _fitting(word: str, font: str, size: float, width: float) -> int:
    """How many of the word's first characters fit in `width` (at least one)."""
    fitting = 1
    while fitting < len(word) and _width(word[: fitting + 1], font, size) <= width:
        fitting += 1
    return fitting


def _printable(text: str) -> str:
    """Only what Helvetica prints: control characters become spaces, others "?"."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cleaned = "".join(ch if ch == "\n" or ch.isprintable() else " " for ch in text)
    return cleaned.encode("cp1252", errors="replace").decode("cp1252")


def _width(text: str, font: str, size: float) -> float:
    widths = _WIDTHS[font]
    return sum(widths[code - _FIRST_CODE] for code in text.encode("cp1252")) * size / 1000


def _write(pages: list[list[tuple[float, float, str, float, str]]], title: str) -> bytes:
    document = pydyf.PDF()
    document.info["Title"] = pydyf.String(title)
    document.info["Producer"] = pydyf.String("Clinic records export")
    fonts = pydyf.Dictionary()
    for key, base_font in _FONTS.items():
        font = pydyf.Dictionary(
            {
                "Type": "/Font",
                "Subtype": "/Type1",
                "BaseFont": f"/{base_font}",
                "Encoding": "/WinAnsiEncoding",
            }
        )
        document.add_object(font)
        fonts[key] = font.reference
    for number, lines in enumerate(pages, start=1):
        footer = f"{title} — page {number} of {len(pages)}"
        content = pydyf.Stream(compress=True)
        for x, y, font, size, text in [*lines, (MARGIN, MARGIN / 2, REGULAR, 8, footer)]:
            content.begin_text()
            content.set_font_size(font, size)
            content.set_text_matrix(1, 0, 0, 1, round(x, 2), round(y, 2))
            content.show_text(_string(text))
            content.end_text()
        document.add_object(content)
        document.add_page(
            pydyf.Dictionary(
                {
                    "Type": "/Page",
                    "Parent": document.pages.reference,
                    # A pydyf Array: a Python list is written with commas, which readers
                    # cannot parse, so they fell back to their default page (US Letter).
                    "MediaBox": pydyf.Array([0, 0, PAGE_WIDTH, PAGE_HEIGHT]),
                    "Contents": content.reference,
                    "Resources": pydyf.Dictionary({"Font": fonts}),
                }
            )
        )
    output = io.BytesIO()
    document.write(output, compress=True)
    return output.getvalue()


def _string(text: str) -> bytes:
    """A PDF literal string of `text` in Windows-1252."""
    encoded = _printable(text).encode("cp1252")
    escaped = encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped + b")"
