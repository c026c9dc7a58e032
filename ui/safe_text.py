"""Text from data shows as text: documents, queries, ids, reviewer names, notes, reasons, errors.

Streamlit renders markdown in st.markdown, captions, expander and button labels, and the
markdown it renders loads remote images, follows links, draws headings, and reads $…$ as
LaTeX and :name: as icons, emoji or colours; its GFM step also turns bare URLs, `www.` names
and e-mail addresses in plain text into links (after escapes are resolved). Any text that came from a file, a model or a
person goes through `escape` (for markdown) or `short` (for plain-text elements) here,
and long values are cut with a way to see all of them.
"""

from __future__ import annotations

import re

import streamlit as st

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark: CommonMark lets each be escaped
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.])/(?:[^\s/'\"]+/)+([^\s/'\"]*)")
_AUTOLINK = re.compile(r"(?i)(https?|mailto|xmpp|www)(?=[:.])|(@)")  # where GFM's autolink patterns start
_JOINER = "\u2060"  # WORD JOINER: invisible, no line break, and not a character those patterns accept
LABEL_LIMIT = 120  # characters of a value inside a label, caption or line
TEXT_LIMIT = 900  # characters of a long text shown before "show all"


def without_paths(message: str) -> str:
    """A message with each absolute server path cut to its last part (an upload's scratch folder, say)."""
    return _ABSOLUTE_PATH.sub(r"\1", message)


def short(text: object, limit: int = LABEL_LIMIT) -> str:
    """At most `limit` characters (a 10,000-character name must not flood the page)."""
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: object, limit: int | None = LABEL_LIMIT) -> str:
    """Text → markdown that shows it literally, cut to `limit` characters (None: all of it)."""
    text = "" if text is None else str(text)
    if limit is not None:
        text = short(text, limit)
    text = _AUTOLINK.sub(lambda m: m.group(0) + _JOINER, text)
    return _PUNCTUATION.sub(r"\\\1", text).replace("\r", "").replace("\n", "  \n")


def see_all(*values: object, limit: int = LABEL_LIMIT) -> str | None:
    """A tooltip (`help=`) with each of `values` that `limit` cuts, in full and as text; None if none is cut.

    Pass the same limit the label used; the tooltip is markdown too, so the values are escaped.
    """
    cut = [str(v) for v in values if v is not None and len(str(v)) > limit]
    return "  \n\n".join(escape(v, None) for v in cut) or None


def code(text: object, limit: int = LABEL_LIMIT) -> str:
    """An id as inline code whatever it contains (a backtick inside must not end the span)."""
    value = short(text, limit)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}" if value else "–"


def show_text(text: object, limit: int = TEXT_LIMIT, label: str = "Show all") -> None:
    """A long text as plain text: the first `limit` characters, then all of it in an expander."""
    text = "" if text is None else str(text)
    st.markdown(escape(text, limit))
    if len(text) > limit:
        with st.expander(f"{label} ({len(text):,} characters)"):
            st.text(text)
