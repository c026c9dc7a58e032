"""Home: what is in the workspace, progress along the flywheel, and what to do next."""

from __future__ import annotations

import streamlit as st

from core.errors import FlywheelError
from core.evaluation.results import latest_headline
from core.labeling.audit import audit
from core.labeling.review import review_summary
from core.storage.demo import load_demo
from core.storage.status import milestones, next_step, status, waiting_review
from ui import curve_view, projects_view
from ui.common import embedder, settings, show_error, store, user
from ui.progress import embed_corpus
from ui.safe_text import code, escape

st.title(":material/cyclone: Flywheel")
st.caption("Review synthetic queries → grade relevance → fine-tune → read the before/after charts.")
counts = status(store())

cols = st.columns(5)
cols[0].metric("Documents", f"{counts['documents']:,}")
cols[1].metric("Queries", f"{counts['queries']:,}", help=f"by split: {counts['queries_by_split']}")
cols[2].metric("Judged pairs", f"{counts['judged_pairs']:,}")
cols[3].metric("Hard negatives", f"{counts['hard_negatives']:,}")
cols[4].metric("Reviewers", len(counts["reviewers"]), help=escape(", ".join(counts["reviewers"]), 500) or "none yet")

step = waiting_review(counts) or (curve_view.next_step(store(), settings()) if counts["runs_by_status"].get("succeeded") else None) \
    or next_step(counts)
st.info(f"**Next:** {step}", icon=":material/arrow_forward:")
if not counts["documents"] and st.button("Load the demo data", icon=":material/download:", type="primary",
                                         help="A synthetic help centre of a fictional health insurer: documents, queries and grades."):
    try:
        with st.spinner("Importing the demo…"):
            load_demo(store(), actor=user())
        embed_corpus(store(), embedder())  # now, so Grade and search start at once
    except FlywheelError as error:
        show_error(error)
    else:
        st.rerun()

headline = latest_headline(store())
if headline:
    st.subheader("Latest run")
    st.markdown(
        f"**{escape(headline['name'] or headline['kind'])}** ({headline['kind']} on {code(headline['model'])}) · {headline['metric']} "
        f"**{headline['before']:.3f} → {headline['after']:.3f}** ({headline['delta']:+.3f}). {headline['summary']} {headline['verdict']}"
    )

st.subheader("Flywheel milestones")
for milestone in milestones(counts):
    mark = ":material/check_circle:" if milestone["reached"] else ":material/pending:"
    st.progress(milestone["progress"], text=f"{mark} **{milestone['name']}** — {milestone['value']:,} / {milestone['target']:,}. {milestone['why']}")
audited = audit(store(), "eval")
if audited.order:  # what estimates with a judge may use (Results): a random sample, graded in order on Grade
    st.caption(f":material/shuffle: {audited.progress_line()} Grade it with the 'audit sample' queue; estimates with a judge use it.")

st.subheader("Synthetic queries")
summary = review_summary(store())
if summary.empty:
    st.caption("No synthetic queries yet: generate some on the Review page.")
else:
    st.dataframe(
        summary,
        hide_index=True,
        column_config={"approval_rate": st.column_config.ProgressColumn("approval rate", min_value=0.0, max_value=1.0, format="percent")},
    )

projects_view.section()  # the workspace's projects: this page, and every other, shows the one chosen in the sidebar
