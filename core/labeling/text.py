"""Words in text, defined once: stop words, content words, and whole-word highlighting.

Review, Grade and the offline generator all read text the same way, so a reviewer sees the
same words marked on every page and the generator picks from the same vocabulary.
"""

from __future__ import annotations

import re

STOPWORDS = frozenset(
    "a an and are as at be by can do does for from has have how i if in is it its me my no not of on or our so such "
    "that the their then there these this to us was we what when where which who why will with you your within after "
    "before per than into out about over same some any all also only more most other each both up".split()
)
# A word: letters and digits, with inner . , ' - kept ("2,000", "o'clock", "co-pay"); $ and % stay attached.
WORD = re.compile(r"[A-Za-z0-9$%]+(?:[.,'-][A-Za-z0-9%]+)*")
QUESTION = re.compile(r"^(who|what|when|where|why|how|which|can|could|do|does|did|is|are|was|will|should|would|may)\b", re.I)


def query_style(text: str) -> str:
    """'question' for questions (a '?' or a question word first), else 'keyword' (the generator's two plain styles)."""
    text = (text or "").strip()
    return "question" if text.endswith("?") or QUESTION.match(text) else "keyword"


def normalise(word: str) -> str:
    """Lower case, and a plural 's' dropped from longer words, so 'claims' matches 'claim'."""
    word = word.lower().strip(".,'")
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def content_words(text: str) -> list[str]:
    """Words that carry meaning (no stop words), lower case, in order, without repeats."""
    words = [w.strip(".,'").lower() for w in WORD.findall(text)]
    return list(dict.fromkeys(w for w in words if w and w not in STOPWORDS))


def _stopword(word: str) -> bool:
    return word.lower().strip(".,'") in STOPWORDS


def highlight(text: str, query: str) -> list[tuple[str, bool]]:
    """Split `text` into (segment, shared-with-query) pieces; only whole words ever match."""
    wanted = {normalise(w) for w in WORD.findall(query) if not _stopword(w)}  # before normalising: "this" is not "thi"
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in WORD.finditer(text):
        hit = not _stopword(match.group()) and normalise(match.group()) in wanted
        if match.start() > position:
            pieces.append((text[position : match.start()], False))
        pieces.append((match.group(), hit))
        position = match.end()
    if position < len(text):
        pieces.append((text[position:], False))
    merged: list[tuple[str, bool]] = []
    for segment, hit in pieces:
        if merged and merged[-1][1] == hit:
            merged[-1] = (merged[-1][0] + segment, hit)
        else:
            merged.append((segment, hit))
    return merged
