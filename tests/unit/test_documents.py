from __future__ import annotations

from docjobs.domain.documents import CHUNK_ATTR, Change, apply_changes, chunk_html, summarize_changes


def test_every_top_level_block_gets_a_chunk_id():
    doc = chunk_html("<h1>T</h1><p>One</p><ul><li>a</li></ul><table><tr><td>x</td></tr></table>")
    assert [b.tag for b in doc.blocks] == ["h1", "p", "ul", "table"]
    assert all(f'{CHUNK_ATTR}="{b.chunk_id}"' in b.html for b in doc.blocks)
    assert len({b.chunk_id for b in doc.blocks}) == 4


def test_chunk_ids_are_stable_across_chunkings_and_kept_when_present():
    html = "<p>Alpha</p><p>Beta</p>"
    first, second = chunk_html(html), chunk_html(html)
    assert [b.chunk_id for b in first.blocks] == [b.chunk_id for b in second.blocks]
    rechunked = chunk_html(first.to_html())
    assert [b.chunk_id for b in rechunked.blocks] == [b.chunk_id for b in first.blocks]
    assert chunk_html('<p data-chunk-id="mine">x</p>').blocks[0].chunk_id == "mine"


def test_identical_blocks_get_distinct_ids_and_duplicate_ids_are_repaired():
    doc = chunk_html("<p>Same</p><p>Same</p>")
    assert doc.blocks[0].chunk_id != doc.blocks[1].chunk_id
    dup = chunk_html('<p data-chunk-id="a">x</p><p data-chunk-id="a">y</p>')
    assert dup.blocks[0].chunk_id == "a" and dup.blocks[1].chunk_id != "a"


def test_loose_text_and_inline_elements_become_one_paragraph():
    doc = chunk_html("Hello <b>world</b> &amp; more<p>Next</p>   ")
    assert [b.tag for b in doc.blocks] == ["p", "p"]
    assert doc.blocks[0].text == "Hello world & more"
    assert "&amp;" in doc.blocks[0].html


def test_full_html_documents_use_the_body():
    doc = chunk_html("<html><head><title>x</title></head><body><p>Body</p></body></html>")
    assert [b.text for b in doc.blocks] == ["Body"]


def test_empty_documents_have_no_blocks():
    assert chunk_html("").blocks == []
    assert chunk_html("   \n ").blocks == []


def _changes(doc):
    a, b, c = (blk.chunk_id for blk in doc.blocks)
    return [
        Change("c1", "update", a, doc.blocks[0].html, f'<p data-chunk-id="{a}">A2</p>', "edit"),
        Change("c2", "delete", b, doc.blocks[1].html, "", "drop"),
        Change("c3", "insert", "new1", "", '<p data-chunk-id="new1">N</p>', "add", after_chunk_id=c),
        Change("c4", "insert", "new0", "", '<p data-chunk-id="new0">Top</p>', "add", after_chunk_id=None),
    ]


def test_apply_all_changes_in_document_order():
    doc = chunk_html("<p>A</p><p>B</p><p>C</p>")
    out = apply_changes(doc, _changes(doc))
    assert [b.text for b in out.blocks] == ["Top", "A2", "C", "N"]


def test_apply_only_a_subset_leaves_the_rest_untouched():
    doc = chunk_html("<p>A</p><p>B</p><p>C</p>")
    changes = _changes(doc)
    out = apply_changes(doc, [changes[1], changes[2]])
    assert [b.text for b in out.blocks] == ["A", "C", "N"]
    assert apply_changes(doc, []).to_html() == doc.to_html()


def test_insert_after_a_deleted_block_keeps_its_place():
    doc = chunk_html("<p>A</p><p>B</p><p>C</p>")
    b = doc.blocks[1].chunk_id
    out = apply_changes(
        doc,
        [
            Change("d", "delete", b, "", "", ""),
            Change("i", "insert", "n", "", '<p data-chunk-id="n">after B</p>', "", after_chunk_id=b),
        ],
    )
    assert [x.text for x in out.blocks] == ["A", "after B", "C"]


def test_change_summary_counts_operations():
    doc = chunk_html("<p>A</p><p>B</p><p>C</p>")
    assert summarize_changes([]) == "No changes"
    assert summarize_changes(_changes(doc)) == "Document updated by AI: 1 block updated, 1 block deleted, 2 blocks inserted"
