"""ui.safe_text: what turns data into text Streamlit shows (the browser test checks the rendering)."""

from __future__ import annotations

from ui.safe_text import code, escape, see_all, short, without_paths


def test_escape_backslashes_every_markup_character_and_cuts_long_values():
    assert escape("![x](http://h/i.png) # $a$ :red[b] <b>") == (
        "\\!\\[x\\]\\(http\u2060\\:\\/\\/h\\/i\\.png\\) \\# \\$a\\$ \\:red\\[b\\] \\<b\\>")
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


def test_bare_urls_www_names_and_addresses_lose_the_pattern_gfm_autolinks_but_read_the_same():
    text = "see http://evil.example/x, HTTPS://a.example www.b.example and me@c.example"
    escaped = escape(text, None)
    unescaped = escaped.replace("\\", "")
    assert unescaped.replace("\u2060", "") == text  # only invisible joiners added
    for pattern in ("http:", "HTTPS:", "www.", "@c"):  # what remark-gfm's autolink literal needs to see
        assert pattern not in unescaped
    assert escape("a@b") == "a\\@\u2060b"


def test_see_all_gives_the_full_value_of_each_value_a_label_cut():
    assert see_all("short", "also short") is None
    assert see_all("x" * 200, "y", None) == "x" * 200
    long_title, long_id = "**t** " * 40, "id`" * 50
    tip = see_all(long_title, long_id, limit=60)
    assert tip == escape(long_title, None) + "  \n\n" + escape(long_id, None)
