"""Agreement: how much reviewers agree (kappa per pair, alpha overall), how far each judge agrees
with them, where they disagree most (one click to re-grade), and how much and how fast each reviewer grades."""

from __future__ import annotations

import streamlit as st

from core.labeling import agreement
from ui import judges_view
from ui.common import store
from ui.grading import TARGET
from ui.safe_text import code, escape, see_all, short


def fmt(value: float | None, pattern: str = "{:.3f}") -> str:
    return "–" if value is None else pattern.format(value)


st.title("Reviewer agreement")
db = store()
include = st.toggle("Count imported qrels as a reviewer", value=False, key="a_imports",
                    help="Imported judgments (reviewer import:…) are left out by default: they are not a person you can talk to.")
judgments = agreement.read_judgments(db, include_imports=include)
result = agreement.agreement(judgments)

cols = st.columns(4)
cols[0].metric("Items graded by 2+ reviewers", result.items)
cols[1].metric("Krippendorff's α (ordinal)", fmt(result.alpha), help=agreement.ALPHA_SCALE)
if result.alpha is not None:
    cols[1].caption(agreement.band(result.alpha, agreement.ALPHA_BANDS))
cols[2].metric("Exact agreement", fmt(result.exact, "{:.0%}"))
cols[3].metric("Within one grade", fmt(result.within_one, "{:.0%}"))
if not result.items:
    st.info("No document has been graded by two reviewers yet. On the Grade page, the overlap share gives a part of the "
            "queries to a second reviewer; 'overlap first' gives second opinions right away.")

st.subheader("Per reviewer pair")
for pair in result.pairs.to_dict("records"):
    st.markdown(f"**{escape(pair['reviewer_a'], 40)} ↔ {escape(pair['reviewer_b'], 40)}** · Cohen's κ (quadratic) **{fmt(pair['kappa'])}**, "
                f"{agreement.band(pair['kappa'], agreement.KAPPA_BANDS)} · {pair['items']} items · exact {pair['exact']:.0%} · "
                f"within one {pair['within_one']:.0%}", help=see_all(pair["reviewer_a"], pair["reviewer_b"], limit=40))
if result.items:
    kappas = [k for k in result.pairs["kappa"] if k is not None and k == k]
    with st.expander("How to read κ and α", icon=":material/info:", expanded=result.items < agreement.FEW_ITEMS):
        st.markdown(f"**Scales.** κ: {agreement.KAPPA_SCALE}.  \nα: {agreement.ALPHA_SCALE}.")
        st.markdown(agreement.why_they_differ(result.items, min(kappas) if kappas else None, result.alpha))

judges_view.judges_section(include)

st.subheader("Widest disagreements")
worst = agreement.with_texts(db, agreement.disagreements(judgments, top=20))
if worst.empty:
    st.caption("No disagreements.")
for row in worst.to_dict("records"):
    line = st.columns([4, 4, 1.4, 2.6, 1.6], vertical_alignment="center")
    line[0].markdown(f"{escape(row['query'] or '–')}  \n{code(row['query_id'])}", help=see_all(row["query"], row["query_id"]))
    line[1].markdown(f"{escape(row['title'] or '(untitled)')}  \n{code(row['doc_id'])}", help=see_all(row["title"], row["doc_id"]))
    line[2].text(f"spread {row['spread']}")
    line[3].text(short(row["grades"], 300))
    if line[4].button("Re-grade", key=f"a_regrade::{row['query_id']}::{row['doc_id']}"):
        st.session_state[TARGET] = (row["query_id"], row["doc_id"])
        st.switch_page("pages/grade.py")

st.subheader("Reviewers")
stats = agreement.reviewer_stats(db, include_imports=include)
st.dataframe(stats, hide_index=True, column_config={
    "median_s_per_grade": st.column_config.NumberColumn("median s / grade", format="%.1f"),
    "grades_per_min": st.column_config.NumberColumn("grades / min (active)", format="%.1f",
                                                    help=f"Grades per minute of active time: each gap between two grades counts up to "
                                                         f"{agreement.IDLE_CAP_S:.0f} s; gaps over {agreement.ACTIVE_GAP_S / 60:.0f} min are breaks."),
})
