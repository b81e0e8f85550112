"""The leaderboard as HTML for a notebook: one row per trial, sortable, best per estimator marked.

Plain HTML with a few lines of script: a click on a column header sorts by it (again: reversed).
A saved notebook opened later shows the same table, best first; only sorting needs the live page.
"""

from __future__ import annotations

import html
import math
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbstudio.automl.result import AutoMLResult

MAX_ROWS = 500
_STYLE = """
<style>
.nbs-lb{border-collapse:collapse;font-size:12px;font-family:var(--jp-ui-font-family,sans-serif)}
.nbs-lb-wrap table.nbs-lb th{text-align:left;cursor:pointer;background:#f0f0f0;
  padding:3px 8px;position:sticky;top:0}
.nbs-lb th:hover{background:#e0e0e0}
.nbs-lb-wrap table.nbs-lb td{padding:2px 8px;border-top:1px solid #e5e5e5;
  white-space:nowrap;text-align:left}
.nbs-lb-wrap table.nbs-lb td.cfg{white-space:normal;min-width:320px;max-width:560px;
  color:#555;font-size:11px}
.nbs-lb tr.best-est td{background:#eef6ee}
.nbs-lb tr.best td{background:#d4edd4;font-weight:600}
.nbs-lb-wrap{max-height:380px;overflow:auto;border:1px solid #ddd;display:inline-block}
</style>
"""
_SCRIPT = """
<script>
(function(){const t=document.getElementById("%s");if(!t)return;
t.querySelectorAll("th").forEach((th,i)=>th.addEventListener("click",()=>{
const b=t.tBodies[0],rows=[...b.rows],asc=th.dataset.asc!=="1";th.dataset.asc=asc?"1":"0";
rows.sort((r,s)=>{const x=r.cells[i].dataset.v??r.cells[i].textContent,
y=s.cells[i].dataset.v??s.cells[i].textContent,nx=parseFloat(x),ny=parseFloat(y);
const c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return asc?c:-c;});
rows.forEach(r=>b.appendChild(r));}));})();
</script>
"""


def _cell(value: Any, css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    if isinstance(value, float):
        if math.isnan(value):
            return f'<td{klass} data-v="">-</td>'
        return f'<td{klass} data-v="{value!r}">{value:.4g}</td>'
    return f"<td{klass}>{html.escape(str(value))}</td>"


def leaderboard_html(result: AutoMLResult) -> str:
    table = result.leaderboard
    metric = result.metric
    table_id = f"nbs-lb-{uuid.uuid4().hex[:10]}"
    columns = [
        "trial",
        "estimator",
        metric,
        "train_time",
        "wall_clock_time",
        "sample_size",
        "config",
    ]
    head = "".join(f"<th title='sort'>{html.escape(c)}</th>" for c in columns)
    body = []
    for _, row in table.head(MAX_ROWS).iterrows():
        css = "best" if row["best"] else "best-est" if row["best_of_estimator"] else ""
        mark = " ★" if row["best"] else " ✓" if row["best_of_estimator"] else ""
        cells = [
            _cell(int(row["trial"])),
            _cell(f"{row['estimator']}{mark}"),
            *(_cell(float(row[c]) if row[c] is not None else math.nan) for c in columns[2:6]),
            _cell(row["config"], "cfg"),
        ]
        body.append(f'<tr class="{css}">{"".join(cells)}</tr>')
    best = result.best
    score = best.get(metric)
    summary = (
        f"<b>AutoML leaderboard</b>: {len(table)} trials, best "
        f"<b>{html.escape(str(best['estimator']))}</b>"
        + (f" with {html.escape(metric)} = {score:.4f}" if isinstance(score, float) else "")
        + f" (run <code>{result.parent_run_id}</code>). ★ best, ✓ best of its estimator; "
        "click a header to sort."
    )
    more = f"<div>showing the best {MAX_ROWS}</div>" if len(table) > MAX_ROWS else ""
    return (
        f"{_STYLE}<div>{summary}</div><div class='nbs-lb-wrap'>"
        f"<table class='nbs-lb' id='{table_id}'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>{more}"
        + _SCRIPT
        % table_id
    )
