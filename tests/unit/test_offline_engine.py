from __future__ import annotations

import pytest
from docjobs.domain.documents import apply_changes, chunk_html
from docjobs.engines import ChatTurn, get_engine
from docjobs.engines.offline import OfflineChatEngine

DOC = chunk_html(
    "<h1>Master Services Agreement</h1>"
    "<p>This agreement is between Acme Corp and Globex. Acme Corp provides the software.</p>"
    "<p>Payment is due in 30 days. Late fees apply after that.</p>"
    "<div><p>Refunds are given within 14 days.</p><p>Support is available on weekdays.</p></div>"
    "<p>Termination requires 60 days notice. Notice must be written.</p>"
    "<p>Confidential information stays confidential for five years after termination.</p>"
)


def run(message, document=DOC):
    notes = []
    reply = OfflineChatEngine().reply(ChatTurn(message, document), lambda p, n: notes.append((p, n)))
    return reply, notes


def result_text(reply):
    return [b.text for b in apply_changes(DOC, reply.changes).blocks]


def test_replace_edits_text_in_every_block_and_keeps_markup():
    reply, notes = run('Replace "Acme Corp" with "Initech"')
    assert len(reply.changes) == 1
    change = reply.changes[0]
    assert change.operation == "update" and change.chunk_id == DOC.blocks[1].chunk_id
    assert "Initech" in change.new_html and "Acme" not in change.new_html
    assert f'data-chunk-id="{change.chunk_id}"' in change.new_html
    assert "2 occurrences" in reply.response
    assert notes and notes[-1][0] == 90


def test_replace_falls_back_to_ignoring_case_and_reports_a_miss():
    reply, _ = run('replace "acme corp" with "Initech"')
    assert "Initech" in reply.changes[0].new_html
    reply, _ = run('replace "Umbrella" with "Initech"')
    assert reply.changes == [] and 'could not find "Umbrella"' in reply.response


def test_replace_escapes_html_in_the_new_text():
    reply, _ = run('replace "Globex" with "<script>x</script>"')
    assert "<script>" not in reply.changes[0].new_html
    assert "&lt;script&gt;" in reply.changes[0].new_html


def test_delete_a_top_level_paragraph():
    reply, _ = run('Delete the paragraph containing "Late fees"')
    assert [c.operation for c in reply.changes] == ["delete"]
    assert not any("Late fees" in t for t in result_text(reply))


def test_delete_a_paragraph_nested_in_a_larger_block_updates_that_block():
    reply, _ = run('remove the paragraph that mentions "refunds"')
    assert [c.operation for c in reply.changes] == ["update"]
    assert "Support is available" in reply.changes[0].new_html
    assert "Refunds" not in reply.changes[0].new_html


def test_insert_after_and_before_a_paragraph():
    reply, _ = run('Insert "Prices exclude VAT." after the paragraph containing "Payment is due"')
    texts = result_text(reply)
    assert texts[texts.index("Payment is due in 30 days. Late fees apply after that.") + 1] == "Prices exclude VAT."
    assert reply.changes[0].operation == "insert"
    assert reply.changes[0].after_chunk_id == DOC.blocks[2].chunk_id
    reply, _ = run('add a paragraph "Preamble." before the paragraph containing "This agreement"')
    assert result_text(reply)[1] == "Preamble."


def test_insert_at_the_end_and_beginning():
    assert result_text(run('add "The end." at the end')[0])[-1] == "The end."
    assert result_text(run('insert "Draft" at the beginning')[0])[0] == "Draft"


def test_several_instructions_in_one_message_make_one_change_per_chunk():
    reply, _ = run('Replace "Acme Corp" with "Initech", then replace "Globex" with "Hooli"')
    assert len(reply.changes) == 1  # both edits are in the same chunk
    assert "Initech" in reply.changes[0].new_html and "Hooli" in reply.changes[0].new_html


def test_summarize_answers_without_changing_the_document():
    reply, _ = run("Summarize this document in 2 sentences")
    assert reply.changes == []
    assert reply.response.startswith("Summary: ")
    assert reply.response.count(".") >= 2


@pytest.mark.parametrize("n", [2, 3, 5])
def test_restructure_into_n_sections(n):
    reply, _ = run(f"Restructure this entire document into {n} sections")
    out = apply_changes(DOC, reply.changes)
    h2 = [b for b in out.blocks if b.tag == "h2"]
    assert len(h2) == n
    assert [b.text.split(".")[0] for b in h2] == [str(i) for i in range(1, n + 1)]
    assert out.blocks[0].tag == "h1"  # the title stays on top
    # Nothing is lost: every original block is still there, in order.
    original_ids = [b.chunk_id for b in DOC.blocks]
    assert [b.chunk_id for b in out.blocks if b.chunk_id in original_ids] == original_ids


def test_restructure_into_more_sections_than_the_document_has_room_for_says_so():
    small = chunk_html("<p>One.</p><p>Two.</p>")
    reply, _ = run("Reorganize the document into five sections", small)
    assert "only has room for 2" in reply.response


def test_unknown_requests_get_an_honest_answer_and_no_changes():
    reply, _ = run("Translate this into French")
    assert reply.changes == []
    assert "can't" in reply.response and "replace" in reply.response


def test_without_a_document_the_engine_says_so():
    reply, _ = run('replace "a" with "b"', document=None)
    assert reply.changes == [] and "no document" in reply.response


def test_engines_are_chosen_by_name():
    assert get_engine("offline").name == "offline"
    with pytest.raises(ValueError):
        get_engine("nope")
