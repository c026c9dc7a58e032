"""Words in text: one highlighter for every page, whole words only."""

from __future__ import annotations

from core.labeling.text import content_words, highlight


def marked(text: str, query: str) -> list[str]:
    return [piece for piece, hit in highlight(text, query) if hit]


def test_whole_words_only_and_text_kept_intact():
    text = "The Silver PPO plan has a deductible; silverware not."
    pieces = highlight(text, "What is the silver PPO deductible?")
    assert [p for p, hit in pieces if hit] == ["Silver", "PPO", "deductible"]
    assert "".join(p for p, _ in pieces) == text


def test_plurals_match_and_words_are_never_split():
    assert marked("File an appeal within 180 days of the denial letter; claims denied.", "appeal deadlines for a denied claim") == [
        "appeal", "claims", "denied"]
    # the prefix highlighter split these: "review s", "Match es", "401 (k)"
    assert marked("Matches and reviews of your 401(k) plan", "match review 401") == ["reviews", "401"]
    assert marked("Matches and reviews", "matches reviews") == ["Matches", "reviews"]


def test_content_words_drop_stop_words_and_repeats():
    assert content_words("How do I submit a claim, a CLAIM for $2,000?") == ["submit", "claim", "$2,000"]


def test_stop_words_are_never_marked_even_where_dropping_a_plural_s_would_disguise_them():
    # "this" and "does" normalise to "thi" and "doe": the stop-word check must come first (seen on CISI's Grade page)
    assert marked("Does this library cover this topic? It does.", "does this library cover indexing") == ["library", "cover"]
