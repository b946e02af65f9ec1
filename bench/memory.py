"""Peak memory of the worker's parse of a 300-page PDF (the full structured parse: pages, blocks,
headings, Markdown, chunks), against pypdf extracting the same PDF's text, each in a fresh process
(peak resident set size of the process image, VmHWM), with the memory of the imports alone subtracted from both."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAGES = 300
# The peak resident set size of this process image (VmHWM, KiB). Not ru_maxrss: Linux carries that
# across exec from the forked parent, so after a large benchmark it would be the parent's peak.
PROBE = """
import sys
def peak():
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
data = open(sys.argv[1], "rb").read()
{imports}
before = peak()
{work}
print(before, peak())
"""
DOCJOBS = ("from docjobs.processors.formats import parse_bytes\nfrom docjobs.processors.chunking import chunk_blocks",
           "parsed = parse_bytes(data, 'big.pdf'); parsed.markdown(); chunk_blocks(parsed.blocks)")  # fmt: skip
PYPDF = ("import io\nfrom pypdf import PdfReader", "[p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]")


def peak_mb(path: Path, imports: str, work: str) -> float:
    code = PROBE.format(imports=imports, work=work)
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True, cwd=ROOT)
    before, after = (int(x) for x in out.stdout.split())
    return round((after - before) / 1024, 1)


def run() -> dict[str, Any]:
    from bench.corpus import _pdf

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.pdf"
        path.write_bytes(_pdf(PAGES, seed=300))
        ours = peak_mb(path, *DOCJOBS)
        baseline = peak_mb(path, *PYPDF)
        return {"pages": PAGES, "pdf_mb": round(path.stat().st_size / 1e6, 2), "docjobs_mb": ours, "pypdf_mb": baseline,
                "ratio": round(ours / baseline, 2) if baseline else None}  # fmt: skip


def report(r: dict[str, Any]) -> None:
    print(f"\n| peak memory parsing a {r['pages']}-page PDF ({r['pdf_mb']} MB), above the imports | docjobs | pypdf text | ratio |")
    print("|---|---|---|---|")
    print(f"| MB | {r['docjobs_mb']} | {r['pypdf_mb']} | {r['ratio']}x |")


if __name__ == "__main__":
    report(run())
