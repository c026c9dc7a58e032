"""CSV downloads a spreadsheet opens: formula-leading text is neutralised, numbers are not."""

from __future__ import annotations

import csv
import io

import pandas as pd

from core.storage.spreadsheet import spreadsheet_csv


def test_formula_leading_text_cells_are_escaped_and_numbers_kept():
    frame = pd.DataFrame({
        "query": ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "plain text", "a = b"],
        "delta": [-0.05, 0.1, -1.0, 0.0, 2.0, 3.0, 4.0],
    })
    rows = list(csv.DictReader(io.StringIO(spreadsheet_csv(frame))))
    assert [r["query"] for r in rows] == ["'=cmd|' /C calc'!A0", "'+1+1", "'-2+3", "'@SUM(A1)", "'\tTAB", "plain text", "a = b"]
    assert [float(r["delta"]) for r in rows] == [-0.05, 0.1, -1.0, 0.0, 2.0, 3.0, 4.0]


def test_a_formula_as_a_column_name_is_escaped_too():
    assert spreadsheet_csv(pd.DataFrame({"=HYPERLINK(\"x\")": ["v"]})).splitlines()[0] == '"\'=HYPERLINK(""x"")"'
