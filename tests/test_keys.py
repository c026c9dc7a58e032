"""The page script of ui/keys.py reaches the browser whole: Streamlit's st.html runs it through
DOMPurify, which drops any element whose text looks like markup (`<` before a letter or `/`), so a
comment mentioning an <input> tag silently removed every key fix from every page."""

from __future__ import annotations

import re

from ui.keys import _SCRIPT


def test_the_key_script_has_nothing_dompurify_would_take_for_markup():
    body = _SCRIPT.removeprefix("<script>").removesuffix("</script>")
    assert _SCRIPT.startswith("<script>") and _SCRIPT.endswith("</script>")
    assert not re.search(r"<[/\w]", body), re.search(r"<[/\w].{0,30}", body).group(0)
