"""A fixed, deterministic set of real PDFs for benchmarks: reports with headings, dense prose,
tables drawn as text, and a long document; generated with reportlab from a seeded RNG."""

from __future__ import annotations

import io
import random

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


def _pdf(pages: int, seed: int, columns: int = 1, table_every: int = 0) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    regular, bold = _fonts()

    rng = random.Random(seed)
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    c.setTitle(f"Benchmark document {seed}")
    width, height = A4
    for page in range(pages):
        y = height - 60
        if page % 4 == 0:
            c.setFont(bold, 18)
            c.drawString(50, y, f"Chapter {page // 4 + 1}: {rng.choice(WORDS).title()} {rng.choice(WORDS).title()}")
            y -= 34
        col_width = (width - 100) / columns
        for col in range(columns):
            cy = y
            c.setFont(regular, 10)
            while cy > 70:
                if table_every and rng.random() < 1 / table_every:
                    for _ in range(4):
                        c.drawString(50 + col * col_width, cy, "  ".join(f"{rng.choice(WORDS)[:8]:<8} {rng.randint(1, 999):>4}" for _ in range(3)))
                        cy -= 13
                line = _sentence(rng)
                while line and cy > 70:
                    take = line[: int(col_width / 5.2)]
                    cut = take.rfind(" ") if len(line) > len(take) else len(take)
                    c.drawString(50 + col * col_width, cy, line[: cut if cut > 0 else len(take)])
                    line = line[cut + 1 if cut > 0 else len(take) :]
                    cy -= 13
                cy -= 6  # paragraph gap
        c.showPage()
    c.save()
    return buffer.getvalue()


def corpus() -> dict[str, bytes]:
    return {
        "report-40p.pdf": _pdf(40, seed=1),
        "two-column-30p.pdf": _pdf(30, seed=2, columns=2),
        "tables-20p.pdf": _pdf(20, seed=3, table_every=6),
        "long-120p.pdf": _pdf(120, seed=4),
    }
