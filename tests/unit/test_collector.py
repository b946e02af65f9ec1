"""Parsing and chunking run with the cyclic garbage collector paused, and leave it as they found it."""

from __future__ import annotations

import gc

import pytest
from docjobs.processors.chunking import chunk_blocks
from docjobs.processors.collector import collector_paused
from docjobs.processors.formats import parse_bytes


def test_the_collector_is_paused_while_parsing_and_chunking_and_resumed_after():
    seen = []

    @collector_paused
    def work(fail: bool = False) -> None:
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("bad document")

    assert gc.isenabled()
    work()
    with pytest.raises(ValueError):
        work(fail=True)
    assert seen == [False, False] and gc.isenabled()  # resumed after a failure too
    gc.disable()
    try:
        work()
        assert not gc.isenabled()  # paused by someone else: left paused
    finally:
        gc.enable()


def test_parse_and_chunk_run_paused(monkeypatch):
    from docjobs.processors import chunking
    from docjobs.processors.formats import html

    seen = []
    real_parse, real_pack = html.parse_html, chunking._pack
    monkeypatch.setattr(html, "parse_html", lambda text: seen.append(gc.isenabled()) or real_parse(text))
    monkeypatch.setattr(chunking, "_pack", lambda *a: seen.append(gc.isenabled()) or real_pack(*a))
    parsed = parse_bytes(b"<html><body><h1>Title</h1><p>Some text.</p></body></html>", "a.html")
    assert chunk_blocks(parsed.blocks)[0]["text"] == "Title\n\nSome text."
    assert seen == [False, False] and gc.isenabled()

