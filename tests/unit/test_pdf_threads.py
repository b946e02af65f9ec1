"""PDFium is not thread-safe; the local stack runs several workers as threads in one process.
Without the lock this crashes the interpreter, so it runs in a subprocess of its own."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = """
from concurrent.futures import ThreadPoolExecutor
from docjobs.processors.formats import parse_bytes
from tests import documents

pdfs = [documents.report_pdf(2, 2) for _ in range(4)] + [documents.corrupt_pdf()]

def parse(data):
    try:
        return len(parse_bytes(data).pages)
    except Exception as error:
        return type(error).__name__

with ThreadPoolExecutor(max_workers=8) as pool:
    results = list(pool.map(parse, pdfs * 8))
assert results == [4, 4, 4, 4, "DocumentError"] * 8, results
print("ok")
"""


def test_parsing_pdfs_from_many_threads_at_once_is_safe():
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-2000:]
