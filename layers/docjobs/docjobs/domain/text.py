"""Plain-text helpers shared by engines and processors: sentences, terms, extractive summaries."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

# A sentence ends at . ! or ? before white space and a capital, a digit, a quote or a bracket. (The
# pattern starts with the end mark, not a look-behind, so the regex engine skips to end marks.)
_SENTENCE_END = re.compile(r"[.!?] (?=[A-Z0-9\"“(])")  # in text with its white space normalized
# The same where the text has no ! or ?: a pattern starting with a literal is searched for quickly
# (six times as fast as one starting with a set of characters).
_PERIOD_END = re.compile(r"\. (?=[A-Z0-9\"“(])")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves may might must shall us via per within without upon""".split()
)


def normalize_space(text: str) -> str:
    # Printable text has no white space but " " (all other is of Unicode's "Other" or "Separator"):
    # text without a double or outer one is left as it is.
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())  # what re.sub(r"\s+", " ", text).strip() gives, at a third of the cost


_ODD_SPACE = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"  # the white space of ASCII text but " "


def normalize_spaces(texts: list[str], has_double_space: Callable[[str], bool] = lambda text: "  " in text) -> list[str]:
    """normalize_space of each text. Parsers mostly give normalized texts: one look at all of them
    together then costs less than one per text (the per-call cost is most of it on short texts).
    `has_double_space` may be a quicker look for two spaces together."""
    # Joined by single spaces, a text with a double, leading or trailing space shows a double space.
    joined = " ".join(filter(None, texts))
    if joined[:1] != " " and joined[-1:] != " " and (
            not any(c in joined for c in _ODD_SPACE) if joined.isascii() else joined.isprintable()) and (
            not has_double_space(joined)):  # fmt: skip
        return texts
    return [normalize_space(text) for text in texts]


def sentences(text: str) -> list[str]:
    """Sentences, never across paragraphs (blank lines); a single line break is a space."""
    if "\n" not in text:
        return paragraph_sentences(normalize_space(text))
    out: list[str] = []
    for paragraph in _PARAGRAPH_BREAK.split(text):
        out += paragraph_sentences(normalize_space(paragraph))
    return out


def paragraph_sentences(paragraph: str) -> list[str]:
    """The sentences of one paragraph whose white space is normalized (single spaces, none at the
    ends: what normalize_space gives)."""
    if not paragraph:
        return []
    out: list[str] = []
    start = 0
    for end in (_SENTENCE_END if "!" in paragraph or "?" in paragraph else _PERIOD_END).finditer(paragraph):
        out.append(paragraph[start : end.start() + 1])
        start = end.end()
    out.append(paragraph[start:])
    return out


def terms(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text) if w.lower() not in STOPWORDS and len(w) > 2]


def summarize(text: str, max_sentences: int = 3) -> list[str]:
    """Extractive summary: TextRank over sentence similarity, returned in document order."""
    candidates = sentences(text)
    # Headings and captions are not sentences a summary should be made of, when there are real ones.
    full = [s for s in candidates if len(s.split()) >= 4]
    candidates = full if len(full) >= min(max_sentences, len(candidates)) else candidates
    return [candidates[i] for i, _ in summarize_ranked(candidates, max_sentences)]


def summarize_ranked(candidates: list[str], max_sentences: int) -> list[tuple[int, float]]:
    """(index, score) of the best `max_sentences` sentences by TextRank, in document order."""
    if len(candidates) <= max_sentences:
        return [(i, 1.0) for i in range(len(candidates))]
    bags = [Counter(terms(s)) for s in candidates]
    n = len(candidates)
    # Similarity as in TextRank (Mihalcea & Tarau 2004): shared terms over log lengths.
    weights = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            shared = sum((bags[i] & bags[j]).values())
            if shared:
                li, lj = sum(bags[i].values()), sum(bags[j].values())
                w = shared / (math.log(li + 1) + math.log(lj + 1))
                weights[i][j] = weights[j][i] = w
    totals = [sum(row) for row in weights]
    scores = [1.0] * n
    for _ in range(30):
        scores = [
            0.15 + 0.85 * sum(weights[j][i] / totals[j] * scores[j] for j in range(n) if weights[j][i])
            for i in range(n)
        ]
    # Earlier sentences break ties: documents tend to lead with their point.
    ranked = sorted(range(n), key=lambda i: (-scores[i], i))[:max_sentences]
    return [(i, scores[i]) for i in sorted(ranked)]


def key_terms(text: str, background: Counter[str], documents: int, k: int = 3) -> list[str]:
    """The k terms most specific to `text` (tf-idf against `background` document frequencies)."""
    tf = Counter(terms(text))
    scored = sorted(
        tf.items(), key=lambda kv: (-(kv[1] * math.log((documents + 1) / (background[kv[0]] + 0.5))), kv[0])
    )
    return [term for term, _ in scored[:k]]
