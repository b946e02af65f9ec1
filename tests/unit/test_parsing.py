"""Parsing real documents of every format, including corrupt, encrypted, empty and odd ones."""

from __future__ import annotations

import pytest
from docjobs.processors.formats import detect_format, parse_bytes
from docjobs.processors.model import DocumentError
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import documents


def test_pdf_pages_headings_by_font_size_and_metadata():
    parsed = parse_bytes(documents.report_pdf(sections=2, pages_per_section=2), "report.pdf")
    assert parsed.format == "pdf" and len(parsed.pages) == 4
    assert parsed.metadata["title"] == "Annual Report" and parsed.metadata["author"] == "Finance Team"
    assert parsed.metadata["page_count"] == 4
    headings = [b for b in parsed.blocks if b.type == "heading"]
    assert [(h.text, h.page, h.level) for h in headings] == [("Section 1: Results", 1, 1), ("Section 2: Results", 3, 1)]
    body = [b for b in parsed.blocks if b.type == "paragraph"]
    assert body[0].heading_path == ["Section 1: Results"] and body[-1].heading_path == ["Section 2: Results"]
    assert "Line 7 of page 1 in section 2" in body[-1].text  # reading order within the page


def test_pdf_heading_levels_follow_font_sizes():
    parsed = parse_bytes(documents.pdf([[("Big Title", 24), ("Smaller Part", 16), ("Body text here.", 11),
                                         ("Body text again.", 11), ("More body.", 11)]]))  # fmt: skip
    levels = {b.text: b.level for b in parsed.blocks if b.type == "heading"}
    assert levels == {"Big Title": 1, "Smaller Part": 2}
    assert parsed.blocks[-1].heading_path == ["Big Title", "Smaller Part"]


def test_a_scanned_page_is_reported_not_silently_empty():
    parsed = parse_bytes(documents.scanned_pdf())
    assert [p.has_text_layer for p in parsed.pages] == [True, False]
    assert any("no text layer" in w and "2" in w for w in parsed.warnings)
    page = parsed.pages[1].to_dict(parsed.blocks)
    assert page["has_text_layer"] is False and "scanned" in page["warning"]


def test_blank_pages_are_called_blank():
    parsed = parse_bytes(documents.blank_pdf())
    assert parsed.blocks == [] and any("blank" in w for w in parsed.warnings)


def test_an_encrypted_pdf_fails_clearly():
    with pytest.raises(DocumentError) as raised:
        parse_bytes(documents.pdf([[("Secret", 11)]], encrypt="hunter2"))
    assert raised.value.code == "encrypted_document" and "password" in str(raised.value)


def test_a_corrupt_pdf_fails_clearly():
    with pytest.raises(DocumentError) as raised:
        parse_bytes(documents.corrupt_pdf(), "broken.pdf")
    assert raised.value.code == "corrupt_document"


def test_a_huge_page_parses():
    data = documents.pdf([[("Poster Title", 96), *[(f"Caption line {i}.", 40) for i in range(30)]]], size=(14400, 14400))
    parsed = parse_bytes(data)
    assert parsed.pages[0].width == 14400
    assert parsed.blocks[0].text == "Poster Title" and parsed.blocks[0].type == "heading"
    assert "Caption line 29." in parsed.text


def test_empty_and_unsupported_files_fail_clearly():
    with pytest.raises(DocumentError) as raised:
        parse_bytes(b"", "empty.pdf")
    assert raised.value.code == "empty_document"
    with pytest.raises(DocumentError) as raised:
        parse_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image.png")
    assert raised.value.code == "unsupported_format"
    with pytest.raises(DocumentError):
        parse_bytes(documents.zip_of({"a.txt": b"x"}), "archive.zip")


def test_docx_headings_paragraphs_lists_tables_and_properties():
    data = documents.docx(
        [("heading1", "Quarterly Review"), ("paragraph", "Sales rose."), ("heading2", "Details"),
         ("bullet", "First point"), ("table", "Item,Qty;Apples,3;Pears,5"), ("paragraph", "The end.")],
        title="Review", author="Dana",
    )  # fmt: skip
    parsed = parse_bytes(data, "review.docx")
    assert parsed.format == "docx" and parsed.metadata["title"] == "Review" and parsed.metadata["author"] == "Dana"
    kinds = [(b.type, b.text.split("\n")[0]) for b in parsed.blocks]
    assert kinds == [("heading", "Quarterly Review"), ("paragraph", "Sales rose."), ("heading", "Details"),
                     ("list_item", "First point"), ("table", "Item | Qty"), ("paragraph", "The end.")]  # fmt: skip
    table = parsed.blocks[4]
    assert table.rows == [["Item", "Qty"], ["Apples", "3"], ["Pears", "5"]]
    assert table.heading_path == ["Quarterly Review", "Details"]
    assert "| Apples | 3 |" in parsed.markdown()


def test_a_corrupt_docx_fails_clearly():
    data = documents.docx([("paragraph", "x")])
    broken = documents.zip_of({"word/document.xml": b"<w:document><unclosed"})
    with pytest.raises(DocumentError) as raised:
        parse_bytes(broken, "broken.docx")
    assert raised.value.code == "corrupt_document"
    with pytest.raises(DocumentError):
        parse_bytes(data[: len(data) // 2], "truncated.docx")


def test_html_structure_and_metadata():
    html = b"""<!doctype html><html><head><title>Guide</title><meta name="author" content="Kim"></head>
    <body><nav>Menu</nav><h1>Guide</h1><p>Intro <b>text</b>.</p><ul><li>One</li><li>Two</li></ul>
    <h2>Data</h2><table><tr><th>K</th><th>V</th></tr><tr><td>a</td><td>1</td></tr></table>
    <pre>code()</pre><script>alert(1)</script></body></html>"""
    parsed = parse_bytes(html, "guide.html")
    assert parsed.metadata == {"title": "Guide", "author": "Kim", "page_count": 1}
    assert [b.type for b in parsed.blocks] == ["heading", "paragraph", "list_item", "list_item", "heading", "table", "code"]
    assert "alert" not in parsed.text and "Menu" not in parsed.text
    assert parsed.blocks[5].heading_path == ["Guide", "Data"]


def test_html_text_is_read_as_a_browser_shows_it():
    html = b"""<!doctype html><html><body>
    <p>Run <a href="#m"><span>Check Module</span></a>.  If no error,
       continue<script>track()</script><style>.x{}</style></p>
    <address>1 Main St<br>Springfield<br/>USA</address>
    <ul><li>Fruit<ul><li>Apple</li><li>Pear</li></ul></li><li>Plain item</li></ul>
    <dl><dt>Term</dt><dd><p>First.</p><p>Second.</p></dd></dl>
    <div>Loose <b>bold</b> text<p>Then a paragraph.</p>and a tail</div>
    <table><tr><td>a</td><td><table><tr><td>inner</td></tr></table></td><td>c</td></tr></table>
    <nav><p>Menu</p></nav><svg><text>Chart</text></svg>
    </body></html>"""
    blocks = [(b.type, b.text) for b in parse_bytes(html, "page.html").blocks]
    assert blocks[:11] == [
        ("paragraph", "Run Check Module. If no error, continue"),  # no space before the full stop, no script or style
        ("paragraph", "1 Main St Springfield USA"),  # line breaks separate words
        ("paragraph", "Fruit"), ("list_item", "Apple"), ("list_item", "Pear"), ("list_item", "Plain item"),
        ("paragraph", "Term"), ("paragraph", "First."), ("paragraph", "Second."),
        ("paragraph", "Loose bold text"), ("paragraph", "Then a paragraph."),
    ]  # fmt: skip
    assert blocks[11] == ("paragraph", "and a tail")
    table = parse_bytes(html, "page.html").blocks[12]
    assert table.rows == [["a", "inner", "c"], ["inner"]]  # a row's own cells; the inner table's row after it
    assert "Menu" not in str(blocks) and "Chart" not in str(blocks)
    toc = b"<dl><dt>1. Intro</dt><dd><dl><dt>1.1. Version</dt><dt>1.2. Scope</dt></dl></dd></dl>"  # DocBook's contents
    assert [b.text for b in parse_bytes(toc, "toc.html").blocks] == ["1. Intro", "1.1. Version", "1.2. Scope"]
    sphinx_toc = b"<ul><li><a href='#idle'>IDLE</a><ul><li><a href='#menus'>Menus</a><ol><li>File</li></ol></li></ul></li></ul>"
    assert [(b.type, b.text) for b in parse_bytes(sphinx_toc, "toc.html").blocks] == [
        ("paragraph", "IDLE"), ("paragraph", "Menus"), ("list_item", "File")]  # fmt: skip


def test_markdown_structure():
    text = "# Title\n\nIntro *here*.\n\nSub\n---\n\n- a\n- b\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n```\nprint()\n```\n"
    parsed = parse_bytes(text.encode(), "notes.md")
    assert [(b.type, b.text) for b in parsed.blocks] == [
        ("heading", "Title"), ("paragraph", "Intro here."), ("heading", "Sub"), ("list_item", "a"),
        ("list_item", "b"), ("table", "x | y\n1 | 2"), ("code", "print()"),
    ]  # fmt: skip
    assert parsed.metadata["title"] == "Title"


def test_plain_text_paragraphs_pages_and_encodings():
    parsed = parse_bytes("Caf\u00e9 one.\nstill one.\n\nTwo.\fThree.".encode("cp1252"), "notes.txt")
    assert [(b.text, b.page) for b in parsed.blocks] == [("Caf\u00e9 one. still one.", 1), ("Two.", 1), ("Three.", 2)]
    assert parse_bytes("\ufeffBOM text".encode("utf-8")).blocks[0].text == "BOM text"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_html_is_read_in_each_encoding_alike(encoding):
    page = "<html><head><title>Café</title></head><body><h1>Menü</h1><p>“Crème” brûlée — 6 €.</p></body></html>"
    if encoding == "cp1252":
        page = page.replace("—", "-")
    parsed = parse_bytes(page.encode(encoding), "menu.html")
    assert parsed.metadata["title"] == "Café"
    assert [(b.type, b.text) for b in parsed.blocks] == [
        ("heading", "Menü"), ("paragraph", "“Crème” brûlée " + ("-" if encoding == "cp1252" else "—") + " 6 €.")]


def test_format_detection_prefers_content_over_names():
    assert detect_format(documents.blank_pdf(), "misnamed.txt") == "pdf"
    assert detect_format(documents.docx([("paragraph", "x")]), "file.bin") == "docx"
    assert detect_format(b"<html><body>x</body></html>", None) == "html"
    assert detect_format(b"# hi", "x.md") == "markdown"
    assert detect_format(b"plain", None, "text/plain") == "text"


def test_headings_are_found_when_text_is_scaled_by_the_matrix_not_the_font_size():
    """Chrome's print-to-PDF and pdfTeX set the font size to 1 and scale the text matrix."""
    import io

    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer)

    def line(y: float, text: str, size: float) -> None:
        c.saveState()
        c.translate(72, y)
        c.scale(size, size)
        c.setFont("Helvetica", 1)
        c.drawString(0, 0, text)
        c.restoreState()

    line(720, "Scaled Title", 22)
    for i, y in enumerate(range(690, 600, -14)):
        line(y, f"Body line {i} of the scaled document.", 11)
    c.showPage()
    c.save()
    parsed = parse_bytes(buffer.getvalue())
    assert [(b.type, b.text.split("\n")[0]) for b in parsed.blocks] == [
        ("heading", "Scaled Title"), ("paragraph", "Body line 0 of the scaled document.")]  # fmt: skip
    assert parsed.blocks[1].heading_path == ["Scaled Title"]


def test_paragraphs_end_where_the_vertical_space_grows():
    lines = [("First paragraph line one.", 11), ("First paragraph line two.", 11)]
    data = documents.pdf([lines])  # evenly spaced: one paragraph
    assert [b.text for b in parse_bytes(data).blocks] == ["First paragraph line one.\nFirst paragraph line two."]
    import io

    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer)
    c.setFont("Helvetica", 11)
    for y, text in ((720, "Para one, line one."), (706, "Para one, line two."), (680, "Para two after a gap.")):
        c.drawString(72, y, text)
    c.showPage()
    c.save()
    assert [b.text for b in parse_bytes(buffer.getvalue()).blocks] == ["Para one, line one.\nPara one, line two.", "Para two after a gap."]


def test_plain_text_section_titles_become_headings():
    from docjobs.processors.formats import parse_bytes

    text = (
        "Master Agreement\n================\n\n"
        "1. Definitions\n--------------\n\n"
        "1.1. Services\n\n"
        "The services are described in the order form. They may change.\n\n"
        "3. Grant of Patent License. Subject to the terms of this agreement, each party grants a license.\n\n"
        "Preamble\n\n"
        "This line is short but ends a sentence.\n\n"
        "2 apples and 3 pears were delivered on time and in good order to the buyer's warehouse.\n"
    )
    parsed = parse_bytes(text.encode(), "agreement.txt", "text/plain")
    headings = [(b.level, b.text) for b in parsed.blocks if b.type == "heading"]
    assert headings == [(1, "Master Agreement"), (2, "1. Definitions"), (3, "1.1. Services"), (2, "3. Grant of Patent License"),
                        (2, "Preamble")]  # fmt: skip
    body = [b for b in parsed.blocks if b.type == "paragraph"]
    assert body[0].heading_path == ["Master Agreement", "1. Definitions", "1.1. Services"]
    assert body[1].text.startswith("Subject to the terms") and body[1].heading_path == ["Master Agreement", "3. Grant of Patent License"]
    assert parsed.metadata["title"] == "Master Agreement"
    assert body[-1].text.startswith("2 apples")  # a sentence that starts with a number stays a paragraph


# -- the fast token count and space normalisation are the regex definitions, exactly ------------

_TEXTS = st.one_of(
    st.text(max_size=200),  # any unicode, control characters and odd spaces included
    st.text(st.characters(exclude_categories=()), max_size=50),  # lone surrogates too (JSON may carry them)
    st.text(alphabet=st.characters(max_codepoint=127), max_size=200),  # ASCII: the fast path
    st.lists(st.sampled_from(["word", "x_1", "3.5", "e.g.", "--", " ", "\t", "\n", "\x1c", "\x0b", "é", "\u00a0", "!?"]),
             max_size=40).map("".join),  # fmt: skip
)


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_count_tokens_is_the_number_of_words_and_punctuation_marks(text):
    import re

    from docjobs.processors.model import count_tokens

    assert count_tokens(text) == len(re.findall(r"\w+|[^\w\s]", text))


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_normalize_space_collapses_every_run_of_whitespace(text):
    import re

    from docjobs.domain.text import normalize_space

    assert normalize_space(text) == re.sub(r"\s+", " ", text).strip()


@settings(max_examples=400, deadline=None)
@given(st.lists(_TEXTS, max_size=8) | st.lists(st.sampled_from(["", " ", "a", "a b", "a  b", " a", "a ", "\x00", "é"]), max_size=6))
def test_normalize_spaces_is_normalize_space_of_each_text(texts):
    from docjobs.domain.text import normalize_space, normalize_spaces

    assert normalize_spaces(texts) == [normalize_space(text) for text in texts]


_HTML_ELEMENTS = """a abbr acronym address applet area article aside audio b basefont bdi bdo bgsound big blink
    blockquote button canvas caption center cite code col colgroup data datalist dd del details dfn dialog dir div dl
    dt em embed fieldset figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 header hgroup hr i iframe
    image img input ins kbd keygen label legend li listing main map mark marquee math menu menuitem meter multicol nav
    nextid nobr noembed noframes noscript object ol optgroup option output p param picture plaintext pre progress q rp
    rt ruby s samp script search section select slot small source spacer span strike strong style sub summary sup svg
    table tbody td template textarea tfoot th thead time tr track tt u ul var video wbr xmp""".split()


def test_a_paragraph_holds_a_block_only_through_the_elements_the_parser_looks_for():
    """The HTML parser looks for paragraphs holding blocks among those holding one of a few elements
    (the HTML rules: a block's start tag ends an open paragraph unless one of them stands between)."""
    from docjobs.processors.formats.html import _PARAGRAPH_SCOPES, _holds_a_block
    from selectolax.lexbor import LexborHTMLParser

    holding, missed = 0, []
    for doctype in ("<!doctype html>", ""):  # without one, quirks mode: a table may sit in a paragraph
        for element in _HTML_ELEMENTS:
            for block in ("div", "ul", "li", "h2", "pre", "dl", "dd", "p", "table", "section", "blockquote", "address"):
                for inside in (f"<{block}>x</{block}>", f"<mi><{block}>x</{block}></mi>", f"<foreignObject><{block}>x</{block}></foreignObject>"):
                    tree = LexborHTMLParser(f"{doctype}<body><p>a<{element}>{inside}</{element}></p></body>")
                    for p in tree.css("p"):
                        if _holds_a_block(p):
                            holding += 1
                            if p.css_first(", ".join(_PARAGRAPH_SCOPES)) is None:
                                missed.append(p.html)
    assert holding > 100 and missed == []


def test_a_paragraph_holding_a_table_is_read_as_its_blocks():
    quirks = b"<html><body><p>Intro<table><tr><td>x</td><td>y</td></tr></table></p><p>Plain <b>bold</b></p></body></html>"
    assert [(b.type, b.text) for b in parse_bytes(quirks, "old.html").blocks] == [
        ("paragraph", "Intro"), ("table", "x | y"), ("paragraph", "Plain bold")]  # fmt: skip
