"""The HTML report of a run: one self-contained page (no scripts, no network)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from bot.evaluation.citations import check_quote
from bot.evaluation.metrics import FAULTS, RANGES, SCORES, TIMES
from bot.evaluation.reading import source_files
from bot.evaluation.report import (
    METRICS,
    Run,
    attribution_cell,
    format_metric,
    fraction,
    labels_cell,
    metric_names,
    percent,
)
from bot.evaluation.thresholds import bar
from bot.evaluation.variants import KINDS

_CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --bg:#f5f7fa; --card:#fff;
  --ok:#2f9e44; --bad:#d9480f; --warn:#e8a317; --info:#3b6fd4; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 32px 24px 64px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 0; color: var(--muted); }
.pill { display:inline-block; padding:1px 10px; border-radius:999px; font-size:12px;
  font-weight:600; letter-spacing:.02em; vertical-align:middle; }
.pass { background:#e6f4ea; color:var(--ok); } .fail { background:#fdecea; color:var(--bad); }
.st { background:#eef2f7; color:var(--muted); }
.grid { display:grid; grid-template-columns: 2fr 1fr; gap:20px; margin:24px 0; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px;
  padding:18px 20px; box-shadow:0 1px 2px rgba(0,0,0,.04); }
.card h2 { margin:0 0 12px; font-size:16px; }
.stats { display:flex; flex-direction:column; gap:12px; }
.stat { background:var(--card); border:1px solid var(--line); border-radius:10px;
  padding:14px 18px; }
.stat b { display:block; font-size:26px; } .stat span { color:var(--muted); font-size:13px; }
.gate-ok { border-left:5px solid var(--ok); } .gate-bad { border-left:5px solid var(--bad); }
.gate-bad ul { margin:6px 0 0; padding-left:18px; color:var(--bad); font-size:13px; }
table { width:100%; border-collapse:collapse; font-size:14px; }
th, td { text-align:left; padding:7px 8px; border-bottom:1px solid var(--line);
  vertical-align:top; }
th { color:var(--muted); font-weight:600; font-size:12px; text-transform:uppercase; }
td.num { text-align:right; font-variant-numeric: tabular-nums; white-space:nowrap; }
a { color:var(--info); text-decoration:none; }
.case { margin-top:18px; }
.case.failed { border-left:5px solid var(--bad); } .case.passed { border-left:5px solid var(--ok); }
.case h3 { margin:0; font-size:16px; display:flex; gap:10px; align-items:center; flex-wrap:wrap; }
.question { font-size:17px; margin:8px 0 10px; }
.reasons { background:#fff5f0; border:1px solid #ffd8c2; border-radius:8px;
  padding:8px 12px 8px 28px; margin:10px 0; color:#9c3a0b; font-size:14px; }
pre.answer { white-space:pre-wrap; background:#f8f9fb; border:1px solid var(--line);
  border-radius:8px; padding:12px 14px;
  font: 13px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
details summary { cursor:pointer; color:var(--muted); font-size:13px; margin:6px 0; }
.claims td.quote { font-style: italic; }
.ok { color:var(--ok); font-weight:700; } .bad { color:var(--bad); font-weight:700; }
.tag { font-size:11px; background:#e7efff; color:var(--info); padding:1px 7px; border-radius:6px;
  white-space:nowrap; }
.small { color:var(--muted); font-size:13px; }
@media (max-width: 820px) { .grid { grid-template-columns: 1fr; } }
"""


def write_html(run: Run, path: str | Path) -> Path:
    """Write the report as one self-contained HTML page (no scripts, no network)."""
    target = Path(path)
    target.write_text(render_html(run), encoding="utf-8")
    return target


def render_html(run: Run) -> str:
    """Render the report: metrics as a bar chart, then every case with its answer and claims."""
    metrics = run.get("metrics", {})
    cases = run.get("cases", [])
    passed = sum(1 for c in cases if c.get("passed"))
    failures = run.get("gate", {}).get("failures") or []
    gate = (
        '<div class="stat gate-ok"><b class="ok">Gate passed</b>'
        "<span>every enforced metric meets its bar</span></div>"
        if not failures
        else '<div class="stat gate-bad"><b class="bad">Gate failed</b><ul>'
        + "".join(f"<li>{escape(f)}</li>" for f in failures)
        + "</ul></div>"
    )
    stats = "".join(
        f'<div class="stat"><b>{escape(format_metric(n, metrics.get(n)))}</b>'
        f"<span>{escape(METRICS[n])}{' per question' if n in TIMES else ''}"
        f"{escape(_bar_text(n))}</span></div>"
        for n in metric_names(run)
        if n in TIMES or n in RANGES
    )
    title = f"newsbot eval: {run.get('dataset', '')}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{_CSS}</style></head>
<body><main>
<header><h1>{escape(title)}</h1>
<p>answerer <b>{escape(str(run.get("answerer", "")))}</b> · {escape(str(run.get("started", "")))}
· {len(cases)} cases · <b>{passed} passed</b>, {len(cases) - passed} failed
· <span class="small">{escape(str(run.get("path", "")))}</span></p></header>
<div class="grid">
<section class="card"><h2>Metrics</h2>{metrics_svg(metrics, metric_names(run))}</section>
<section class="stats">{gate}{stats}</section>
</div>
<section class="card"><h2>Cases</h2>{_case_table(cases)}</section>
{_attribution_card(run)}
{_variants_card(run.get("variants"))}
{"".join(_case_card(c) for c in cases)}
</main></body></html>
"""


def _bar_text(name: str) -> str:
    threshold = bar(name)
    if threshold is None:
        return ""
    kind = "gate" if threshold.enforced else "target"
    return f" ({kind} {threshold.sign} {threshold.value:g})"


def metrics_svg(metrics: Mapping[str, Any], names: Sequence[str] | None = None) -> str:
    """Draw the metrics that are shares as horizontal bars with their thresholds marked."""
    label_w, bar_w, value_w, row_h = 230, 330, 70, 30
    width = label_w + bar_w + value_w
    shares = {**SCORES, **FAULTS}
    rows = [(n, shares[n]) for n in names or shares if n in shares and n not in RANGES]
    height = row_h * len(rows) + 34
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="metrics" '
        'font-family="-apple-system, Segoe UI, Roboto, Arial, sans-serif" font-size="13">'
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = label_w + tick * bar_w
        parts.append(
            f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{height - 26}" stroke="#e4e7eb"/>'
            f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" fill="#9aa5b1" '
            f'font-size="11">{tick:.0%}</text>'
        )
    for number, (name, label) in enumerate(rows):
        value = metrics.get(name)
        y = 6 + number * row_h
        threshold = bar(name)
        colour = "#3b6fd4"
        if threshold is not None and value is not None:
            met = threshold.met(value)
            colour = "#2f9e44" if met else "#d9480f" if threshold.enforced else "#e8a317"
        parts.append(
            f'<text x="{label_w - 10}" y="{y + 15}" text-anchor="end" fill="#1f2933">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y + 2}" width="{bar_w}" height="18" rx="4" fill="#f0f2f5"/>'
        )
        if value is not None:
            parts.append(
                f'<rect x="{label_w}" y="{y + 2}" width="{max(value, 0.0) * bar_w:.1f}" '
                f'height="18" rx="4" fill="{colour}"/>'
            )
        if threshold is not None:
            x = label_w + threshold.value * bar_w
            dash = "" if threshold.enforced else ' stroke-dasharray="3 2"'
            parts.append(
                f'<line x1="{x:.1f}" y1="{y - 1}" x2="{x:.1f}" y2="{y + 23}" '
                f'stroke="#1f2933" stroke-width="2"{dash}>'
                f"<title>{escape(_bar_text(name).strip(' ()'))}</title></line>"
            )
        parts.append(
            f'<text x="{label_w + bar_w + 10}" y="{y + 15}" fill="#1f2933" font-weight="600">'
            f"{escape(format_metric(name, value))}</text>"
        )
    parts.append("</svg>")
    legend = (
        '<p class="small">Bars: green meets its bar, red misses the CI gate (solid mark), '
        "amber misses a reported target (dashed mark), blue has no threshold. Misattribution "
        "and unresolved share are better low: their mark is a maximum.</p>"
    )
    return "".join(parts) + legend


def _case_table(cases: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for case in cases:
        status = case.get("status") or "error"
        expected = case["expected_status"]
        shown = escape(status) + (
            ""
            if status == expected
            else f' <span class="small">(expected {escape(expected)})</span>'
        )
        verdict = (
            '<span class="pill pass">pass</span>'
            if case["passed"]
            else ('<span class="pill fail">fail</span>')
        )
        rows.append(
            f'<tr><td><a href="#case-{escape(case["id"])}">{escape(case["id"])}</a></td>'
            f"<td>{shown}</td>"
            f'<td class="num">{fraction(case.get("sides"), "covered", "total")}</td>'
            f'<td class="num">{fraction(case.get("citations"), "valid", "total")}</td>'
            f'<td class="num">{escape(attribution_cell(case.get("attribution")))}</td>'
            f'<td class="num">{escape(labels_cell(case.get("labels")))}</td>'
            f'<td class="num">{fraction(case.get("recall"), "found", "expected")}</td>'
            f'<td class="num">{case["seconds"]:.2f} s</td><td>{verdict}</td></tr>'
        )
    return (
        "<table><thead><tr><th>case</th><th>status</th><th>sides</th><th>quotes ok</th>"
        "<th>attribution</th><th>labels</th><th>recall</th><th>time</th><th>result</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _case_card(case: Mapping[str, Any]) -> str:
    answer = case.get("answer") or {}
    passed = bool(case.get("passed"))
    verdict = (
        '<span class="pill pass">pass</span>' if passed else ('<span class="pill fail">fail</span>')
    )
    reasons = (
        '<ul class="reasons">' + "".join(f"<li>{escape(r)}</li>" for r in case["reasons"]) + "</ul>"
        if case.get("reasons")
        else ""
    )
    status = case.get("status") or "error"
    text = str(answer.get("answer") or answer.get("summary") or case.get("error") or "")
    kind = "passed" if passed else "failed"
    return f"""<section class="card case {kind}" id="case-{escape(case["id"])}">
<h3>{escape(case["id"])} {verdict}
<span class="pill st">expected {escape(case["expected_status"])}</span>
<span class="pill st">got {escape(status)}</span>
<span class="small">{case["seconds"]:.2f} s</span></h3>
<p class="question">{escape(case["question"])}</p>
{reasons}
<details open><summary>answer as rendered</summary>
<pre class="answer">{escape(text)}</pre></details>
{_claims_table(answer, case)}
</section>"""


def _claims_table(answer: Mapping[str, Any], case: Mapping[str, Any]) -> str:
    claims = [c for c in answer.get("claims") or [] if isinstance(c, Mapping)]
    verification = [c for c in answer.get("verification") or [] if isinstance(c, Mapping)]
    if not claims and not verification:
        return ""
    files = source_files(answer)
    covers: dict[int, list[str]] = {}
    for side, index in ((case.get("sides") or {}).get("matched") or {}).items():
        covers.setdefault(int(index), []).append(side)
    rows = []
    for number, claim in enumerate(claims + verification):
        who = escape(str(claim.get("claimant") or ""))
        if number >= len(claims):
            who = '<span class="small">verification</span>'
        tags = "".join(
            f' <span class="tag">covers {escape(s)}</span>' for s in covers.get(number, [])
        )
        quotes = []
        for evidence in claim.get("evidence") or []:
            problem = check_quote(evidence, files)
            mark = (
                '<span class="ok">✓</span>'
                if problem is None
                else (f'<span class="bad" title="{escape(problem)}">✗</span>')
            )
            source = evidence.get("source")
            name = Path(files[source]).name if source in files else "dangling id"
            quotes.append(
                f"{mark} “{escape(str(evidence.get('quote') or ''))}” "
                f'<span class="small">[{escape(str(source))}] {escape(name)}</span>'
            )
        rows.append(
            f"<tr><td>{escape(str(claim.get('side') or ''))}{tags}</td><td>{who}</td>"
            f'<td class="quote">{"<br>".join(quotes) or escape(str(claim.get("claim") or ""))}'
            "</td></tr>"
        )
    return (
        "<details open><summary>claims and their evidence (✓ quote found in the cited file)"
        '</summary><table class="claims"><thead><tr><th style="width:18%">side</th>'
        '<th style="width:22%">claimant</th><th>evidence</th></tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table></details>"
    )


def _attribution_card(run: Run) -> str:
    """List the claims whose side label names the wrong camp, then the unresolved ones."""
    cases = run.get("cases", [])
    if not any(c.get("attribution") for c in cases):
        return ""
    wrong = run.get("misattributed") or []
    unresolved = [
        {"case": c["id"], **claim}
        for c in cases
        for claim in (c.get("attribution") or {}).get("claims", [])
        if claim["verdict"] == "unresolved"
    ]
    checked = run.get("metrics", {}).get("attribution_checked") or 0
    head = (
        f'<p class="small">{checked} claims quote a gold attribution; {len(wrong)} name the '
        f"wrong camp, {len(unresolved)} name none.</p>"
    )
    body = _claims_list(wrong) if wrong else '<p class="ok">No claim names the wrong camp.</p>'
    more = (
        f"<details><summary>claims whose label names no camp ({len(unresolved)})</summary>"
        f"{_claims_list(unresolved)}</details>"
        if unresolved
        else ""
    )
    return f'<section class="card case"><h2>Misattributed claims</h2>{head}{body}{more}</section>'


def _claims_list(claims: Sequence[Mapping[str, Any]]) -> str:
    rows = "".join(
        f'<tr><td><a href="#case-{escape(c["case"])}">{escape(c["case"])}</a></td>'
        f'<td class="quote">“{escape(c["quote"])}” <span class="small">{escape(c["file"])}</span>'
        f"</td><td>{escape(c['label'] or '(none)')}"
        + (' <span class="tag">verification</span>' if c.get("verification") else "")
        + f"</td><td>{escape(c['gold_side'])}</td><td>{escape(c['gold_speaker'])}</td></tr>"
        for c in claims
    )
    return (
        '<table class="claims"><thead><tr><th>case</th><th>quote</th><th>label given</th>'
        "<th>gold side</th><th>gold speaker</th></tr></thead><tbody>" + rows + "</tbody></table>"
    )


def _variants_card(variants: Mapping[str, Any] | None) -> str:
    """Show consistency and pass rate per variant kind, then every variant with another status."""
    if variants is None:
        return ""
    rows = "".join(
        f"<tr><td>{escape(KINDS.get(kind, kind))}</td>"
        f'<td class="num">{tally["asked"]}</td>'
        f'<td class="num">{tally["consistent"]} ({percent(tally["status_consistency"])})</td>'
        f'<td class="num">{tally["passed"]} ({percent(tally["pass_rate"])})</td></tr>'
        for kind, tally in [*variants["kinds"].items(), ("all", variants["overall"])]
    )
    table = (
        "<table><thead><tr><th>variant</th><th>asked</th><th>same status</th><th>passed</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )
    inconsistent = variants.get("inconsistent") or []
    listed = "".join(
        f'<tr><td><a href="#case-{escape(v["case"])}">{escape(v["case"])}</a></td>'
        f"<td>{escape(KINDS.get(v['kind'], v['kind']))}</td><td>{escape(v['question'])}</td>"
        f"<td>{escape(v['status'] or 'error')}</td>"
        f"<td>{escape(v['canonical_status'] or 'error')}</td></tr>"
        for v in inconsistent
    )
    details = (
        f"<h3>Variants with another status ({len(inconsistent)})</h3>"
        "<table><thead><tr><th>case</th><th>variant</th><th>question as typed</th>"
        f"<th>status</th><th>the question's status</th></tr></thead><tbody>{listed}</tbody></table>"
        if inconsistent
        else '<p class="ok">Every variant got the status of its question.</p>'
    )
    return (
        '<section class="card case"><h2>The same question, typed differently</h2>'
        f"{table}{details}</section>"
    )
