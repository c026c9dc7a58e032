"""ui.safe_text: what turns data into text Streamlit shows (the browser test checks the rendering)."""

from __future__ import annotations

from ui.safe_text import code, escape, short, without_paths


def test_escape_backslashes_every_markup_character_and_cuts_long_values():
    assert escape("![x](http://h/i.png) # $a$ :red[b] <b>") == (
        "\\!\\[x\\]\\(http\\:\\/\\/h\\/i\\.png\\) \\# \\$a\\$ \\:red\\[b\\] \\<b\\>")
    assert escape("a\nb") == "a  \nb"
    assert escape("x" * 10_000) == "x" * 119 + "…" and len(escape("x" * 10_000, None)) == 10_000
    assert short(None) == "" and short("abc", 2) == "a…"


def test_code_fences_an_id_longer_than_any_backtick_run_inside():
    assert code("d1") == "`d1`"
    assert code("evil`id") == "``evil`id``"
    assert code("`x``") == "``` `x`` ```"
    assert code("") == "–"


def test_errors_lose_server_paths():
    assert without_paths("/tmp/tmpab12/corpus.jsonl, line 3: bad") == "corpus.jsonl, line 3: bad"
    assert without_paths("see s3://bucket/a/b and http://h/x/y") == "see s3://bucket/a/b and http://h/x/y"
