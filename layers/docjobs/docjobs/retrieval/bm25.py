"""BM25 (Okapi; k1 = 1.2, b = 0.75): the lexical half of hybrid retrieval. Its scoring over an
index's postings is in store.py; here, how a text becomes the terms both sides compare."""

from __future__ import annotations

import re
import unicodedata

K1 = 1.2
B = 0.75
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
# Words too common to say anything about a passage (a short list: BM25's idf handles the rest).
STOPWORDS = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was were will with".split()
)


def terms(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return [_stem(w) for w in WORD.findall(folded) if w not in STOPWORDS]


def _stem(word: str) -> str:
    """A light suffix strip so that "invoice", "invoices" and "invoiced" meet (not a full
    stemmer: it only has to treat a query and a passage alike)."""
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word
