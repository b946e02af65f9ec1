"""A fixed, deterministic set of PDFs for benchmarks: reports with headings, dense prose, tables
drawn as text, and a long document; generated with reportlab from a seeded RNG, in two styles.

- typeset (`corpus()`): each line written as TeX and word processors write it: TJ arrays with the
  space between words as a displacement (no space glyph), kerning inside some words, a font change
  for a bold word now and then. The PDFs on this machine from LaTeX and DocBook look like this
  (`/usr/share/doc/*/*.pdf`), and on them raw PDFium text extraction is 10-16x pypdf's, the ratio
  the parse goal was set against.
- simple (`simple_corpus()`): one text-show operator per line, as reportlab writes by default,
  with few operators for a Python extractor to interpret: pypdf's best case."""

from __future__ import annotations

import io
import random
from typing import Any

WORDS = ("revenue cost margin quarter region supplier contract customer churn support ticket board plan hiring "
         "forecast budget audit risk compliance policy product market launch growth team office lease renewal "
         "invoice payment schedule delivery warranty service level agreement clause party notice term").split()  # fmt: skip


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    return " ".join(words).capitalize() + "."


def _fonts() -> tuple[str, str]:
    """Embedded TrueType subsets with ToUnicode maps, as real-world PDFs have (standard Type 1
    fonts would flatter text extractors that need no font decoding)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "Vera" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("Vera", "Vera.ttf"))
        pdfmetrics.registerFont(TTFont("VeraBd", "VeraBd.ttf"))
    return "Vera", "VeraBd"


class _Typesetter:
    """Writes a line of text as a typesetter does (see the module's docstring)."""

    def __init__(self, c: Any, rng: random.Random, regular: str, bold: str) -> None:
        from reportlab.pdfbase import pdfmetrics

        self.c, self.rng = c, rng
        self.fonts = {regular: pdfmetrics.getFont(regular), bold: pdfmetrics.getFont(bold)}
        self.regular, self.bold = regular, bold

    def line(self, x: float, y: float, text: str, font: str, size: float) -> None:
        ops, items, current = [f"BT {x:.3f} {y:.3f} Td"], [], None
        for n, word in enumerate(text.split(" ")):
            if n:
                items.append("-333")  # the space between words (two for two spaces)
            if not word:
                continue
            name = self.bold if font == self.regular and self.rng.random() < 0.03 else font
            pieces: list[str | int] = [word]
            if len(word) > 3 and self.rng.random() < 0.3:  # kerning between two letters
                cut = self.rng.randint(1, len(word) - 1)
                pieces = [word[:cut], self.rng.choice((15, -20, 28, -10)), word[cut:]]
            for piece in pieces:
                if isinstance(piece, int):
                    items.append(str(piece))
                    continue
                for subset, data in self.fonts[name].splitString(piece, self.c._doc):
                    if (name, subset) != current:
                        if items and current is not None:
                            ops.append(f"[{' '.join(items)}] TJ")
                            items = []
                        ops.append(f"{self.fonts[name].getSubsetInternalName(subset, self.c._doc)} {size} Tf")
                        current = (name, subset)
                    items.append(f"({self.c._escape(data)})")
        ops.append(f"[{' '.join(items)}] TJ ET")
        self.c._code.append(" ".join(ops))


def _pdf(pages: int, seed: int, columns: int = 1, table_every: int = 0, typeset: bool = False) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    regular, bold = _fonts()

    rng = random.Random(seed)
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    c.setTitle(f"Benchmark document {seed}")
    typesetter = _Typesetter(c, rng, regular, bold)
    size = 10.0

    def draw(x: float, y: float, text: str) -> None:
        if typeset:
            typesetter.line(x, y, text, font, size)
        else:
            c.drawString(x, y, text)
    width, height = A4
    for page in range(pages):
        y = height - 60
        if page % 4 == 0:
            font, size = bold, 18.0
            c.setFont(font, size)
            draw(50, y, f"Chapter {page // 4 + 1}: {rng.choice(WORDS).title()} {rng.choice(WORDS).title()}")
            y -= 34
        col_width = (width - 100) / columns
        for col in range(columns):
            cy = y
            font, size = regular, 10.0
            c.setFont(font, size)
            while cy > 70:
                if table_every and rng.random() < 1 / table_every:
                    for _ in range(4):
                        draw(50 + col * col_width, cy, "  ".join(f"{rng.choice(WORDS)[:8]:<8} {rng.randint(1, 999):>4}" for _ in range(3)))
                        cy -= 13
                line = _sentence(rng)
                while line and cy > 70:
                    take = line[: int(col_width / 5.2)]
                    cut = take.rfind(" ") if len(line) > len(take) else len(take)
                    draw(50 + col * col_width, cy, line[: cut if cut > 0 else len(take)])
                    line = line[cut + 1 if cut > 0 else len(take) :]
                    cy -= 13
                cy -= 6  # paragraph gap
        c.showPage()
    c.save()
    return buffer.getvalue()


def corpus(typeset: bool = True) -> dict[str, bytes]:
    return {
        "report-40p.pdf": _pdf(40, seed=1, typeset=typeset),
        "two-column-30p.pdf": _pdf(30, seed=2, columns=2, typeset=typeset),
        "tables-20p.pdf": _pdf(20, seed=3, table_every=6, typeset=typeset),
        "long-120p.pdf": _pdf(120, seed=4, typeset=typeset),
    }


def simple_corpus() -> dict[str, bytes]:
    return corpus(typeset=False)
