"""Query words marked in document text: one style on every page, always escaped HTML."""

from __future__ import annotations

import html

from core.labeling.text import highlight

MARK = "<mark style='background:#ffe08a;padding:0 .1em;border-radius:.2em'>{}</mark>"


def highlighted_html(text: str, query: str) -> str:
    """`text` as escaped HTML with the words it shares with `query` marked."""
    return "".join(MARK.format(html.escape(piece)) if hit else html.escape(piece) for piece, hit in highlight(text, query))
