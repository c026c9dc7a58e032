"""A one-page, self-contained HTML report of a run: it opens without the app and can be mailed.

plotly.js is inlined once (with the first figure); the other figures reuse it. Everything
else is plain HTML with escaped text, so nothing is fetched when it is opened.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from core.errors import InputError
from core.evaluation import charts, metrics, results
from core.storage.store import Store

CSS = """
body{font-family:Inter,Segoe UI,Helvetica,Arial,sans-serif;margin:32px auto;max-width:1100px;color:#1d2630;padding:0 16px}
h1{font-size:26px;margin:0 0 4px} h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid #e3e7ec;padding-bottom:4px}
.sub{color:#5b6775;margin:0 0 20px}
.cards{display:flex;gap:16px;flex-wrap:wrap;margin:16px 0}
.card{border:1px solid #e3e7ec;border-radius:10px;padding:12px 18px;min-width:150px}
.card .label{color:#5b6775;font-size:13px} .card .value{font-size:26px;font-weight:600}
.verdict{font-size:17px;line-height:1.5;padding:14px 18px;border-radius:10px;background:#f3f6f9}
.good{border-left:6px solid #2ca02c} .mixed{border-left:6px solid #e8a33d} .bad{border-left:6px solid #d62728} .unsure{border-left:6px solid #9aa5b1}
.card.good .value{color:#2ca02c} .card.mixed .value{color:#b8741a} .card.bad .value{color:#d62728} .card.unsure .value{color:#5b6775}
table{border-collapse:collapse;font-size:13px;margin:8px 0} th,td{padding:4px 10px;border-bottom:1px solid #eef1f4;text-align:right}
th{background:#f7f9fb} td:first-child,th:first-child,td.l{text-align:left}
pre{background:#f7f9fb;padding:12px;border-radius:8px;font-size:12px;overflow:auto}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}
"""


def _esc(value) -> str:
    return html.escape(str(value))


def _card(label: str, value: str, tone: str = "") -> str:
    return f'<div class="card {tone}"><div class="label">{_esc(label)}</div><div class="value">{_esc(value)}</div></div>'


def _table(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    formats = formats or {}
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            fmt = formats.get(column)
            text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else (fmt.format(value) if fmt else value)
            left = ' class="l"' if isinstance(value, str) else ""
            cells.append(f"<td{left}>{_esc(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure(fig, first: bool) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=True if first else False,
                       config={"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}})


def headline_cards(head: dict) -> str:
    rel = f"{head['rel_change']:+.1%}" if head["rel_change"] is not None else "n/a"
    return "".join([
        _card(f"{head['metric']} before", f"{head['before']:.3f}"),
        _card(f"{head['metric']} after", f"{head['after']:.3f}"),
        _card("Change", f"{head['delta']:+.3f} ({rel})", verdict_class(head)),  # coloured by the verdict, not the sign
        _card("95% CI of the change", f"{head['ci_low']:+.3f} … {head['ci_high']:+.3f}"),
        _card("p-value (paired)", f"{head['p_value']:.3g}"),
    ])


TONE = {results.Outcome.improvement: "good", results.Outcome.tradeoff: "mixed", results.Outcome.regression: "bad",
        results.Outcome.unclear: "unsure"}


def verdict_class(head: dict) -> str:
    """The run's one verdict (results.outcome): green only for a real gain with no important metric worse."""
    return TONE[results.Outcome(head["outcome"])]


def render_report(store: Store, run_id: str, metric: str = results.DEFAULT_METRIC) -> str:
    """The whole report as one HTML string."""
    data = results.load_run(store, run_id)
    if len(data.stages) < 2:
        raise InputError(f"a report expects a run with before and after results, but run {run_id} has {data.stages or 'none'}; "
                         "wait until it has finished evaluating")
    name, _ = results.parse_metric(metric)
    stage = data.default_stage
    head = results.headline(data, metric, stage)
    table = results.per_k_table(data, stage)
    pq = results.per_query(data, metric, stage)
    figures = [
        charts.per_k_bars(table),
        charts.metric_curve(results.curve(data, "recall"), data.stages, "recall"),
        charts.per_query_scatter(pq, head["metric"]),
        charts.first_rank_bars(results.first_rank_distribution(data, stage), ["before", stage]),
    ]
    steps = results.pipeline_ladder(data, metric)
    if steps:
        figures.append(charts.ladder_bars(steps["rungs"], steps["shipped"], head["metric"]))
    blocks = [_figure(fig, first=i == 0) for i, fig in enumerate(figures)]
    ladder_html = [
        "<h2>The pipeline this run ships, against the best one that needs no labels</h2>",
        f"<p class='verdict'>{_esc(steps['sentence'])}</p>" if steps["sentence"] else "",
        f"<p class='sub'>Ships: {_esc(steps['pipeline'].get('describe', ''))}. Fusion weights were chosen on validation queries, "
        "never on the eval queries scored here.</p>", blocks[4],
    ] if steps else []
    run = data.run
    counts = results.data_counts(run)
    counts_frame = pd.DataFrame({"item": list(counts), "count": list(counts.values())})
    table_out = table.assign(metric=table["name"].map(metrics.LABELS))[["metric", "k", "before", "after", "delta", "rel_change"]]
    worst = pq.sort_values("delta").head(5)[["query_id", "query", "before", "after", "delta"]]
    best = pq.sort_values("delta", ascending=False).head(5)[["query_id", "query", "before", "after", "delta"]]
    when = pd.Timestamp(run.get("finished_at") or run.get("created_at")).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Flywheel run {_esc(run_id)}</title><style>{CSS}</style></head><body>",
        f"<h1>Run {_esc(run_id)}: {_esc(run.get('kind', ''))}</h1>",
        f"<p class='sub'>{_esc(run.get('name') or '')}{' · ' if run.get('name') else ''}Base model {_esc(head['model'])} · status {_esc(run.get('status', ''))} · "
        f"{_esc(when)} · compared: before vs {_esc(stage)} on {head['n']} eval queries</p>",
        *ladder_html,
        f"<h2>Before and after: {_esc(head['metric'])}</h2>" if steps else "",
        f"<div class='cards'>{headline_cards(head)}</div>",
        f"<p class='verdict {verdict_class(head)}'>{_esc(head['summary'])}<br>{_esc(head['verdict'])}</p>",
        "<h2>Charts</h2>", blocks[0], f"<div class='grid'><div>{blocks[1]}</div><div>{blocks[3]}</div></div>", blocks[2],
        "<h2>All metrics</h2>",
        _table(table_out, {"before": "{:.3f}", "after": "{:.3f}", "delta": "{:+.3f}", "rel_change": "{:+.1%}"}),
        f"<h2>Queries that got worse ({head['metric']})</h2>",
        _table(worst[worst["delta"] < 0], {"before": "{:.3f}", "after": "{:.3f}", "delta": "{:+.3f}"}),
        f"<h2>Queries that got better ({head['metric']})</h2>",
        _table(best[best["delta"] > 0], {"before": "{:.3f}", "after": "{:.3f}", "delta": "{:+.3f}"}),
        "<h2>Data</h2>", _table(counts_frame),
        f"<p class='sub'>Eval set hash: <code>{_esc(run.get('snapshot_hash', ''))}</code></p>",
        "<h2>Configuration</h2>", f"<pre>{_esc(json.dumps(results.public_config(run.get('config', {})), indent=2, sort_keys=True, default=str))}</pre>",
        "</body></html>",
    ]
    return "\n".join(parts)


def write_report(store: Store, run_id: str, out: str | Path, metric: str = results.DEFAULT_METRIC) -> Path:
    path = Path(out)
    if path.is_dir():
        raise InputError(f"--out expects a file path, but '{path}' is a folder; use e.g. {path / 'report.html'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(store, run_id, metric), encoding="utf-8")
    return path
