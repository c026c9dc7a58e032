"""CSV meant to be opened in a spreadsheet, with data that people and models wrote in it.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Sheets (`=cmd|' /C calc'!A0` runs a program on some of them). As the OWASP
guidance on CSV injection says, such text cells get a leading `'`, which the spreadsheet shows
as text. Numbers stay numbers (-0.05 is a value, not a formula). Training formats (BEIR TSV
qrels, JSONL, triplets) are read by programs, not spreadsheets, and are written verbatim.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell that a spreadsheet would read as a formula, made plain text; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_csv(frame: pd.DataFrame) -> str:
    """`frame` as CSV text whose text cells (and column names) cannot run as formulas."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    safe.columns = [neutralise(str(c)) for c in safe.columns]
    return safe.to_csv(index=False)
