"""Run records for people: `cdna runs list|show` and the nightly HTML report."""

from __future__ import annotations

import base64
import html
import io
import json
from typing import Any

from cdna.core.lake import Lake

__all__ = ["flatten", "list_runs", "load_run", "render_night_html"]


def list_runs(lake: Lake) -> list[dict[str, Any]]:
    """Every JSON run record under LAKE/_runs/, newest first, with its file name."""
    out = []
    if lake.runs.is_dir():
        for path in lake.runs.glob("*.json"):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            data["_file"] = path.name
            out.append(data)
    out.sort(key=lambda d: str(d.get("started_at", "")), reverse=True)
    return out


def load_run(lake: Lake, ref: str) -> dict[str, Any] | None:
    """A run record by run id, file name, or nightly date (YYYY-MM-DD)."""
    for data in list_runs(lake):
        if ref in (data.get("run_id"), data["_file"], data["_file"].removesuffix(".json"), data.get("day")):
            return data
    return None


def flatten(value: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """Nested dicts as (dotted key, short text) rows, for tables."""
    rows: list[tuple[str, str]] = []
    if isinstance(value, dict) and depth < 4:
        for k, v in value.items():
            rows.extend(flatten(v, f"{prefix}.{k}" if prefix else str(k), depth + 1))
    elif isinstance(value, list):
        if value and all(isinstance(v, (int, float, str)) for v in value) and len(value) <= 12:
            rows.append((prefix, ", ".join(str(v) for v in value)))
        else:
            rows.append((prefix, f"{len(value)} item(s)"))
    else:
        text = f"{value:,.3f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
        rows.append((prefix, text[:200]))
    return rows


def _durations_png(stages: list[dict[str, Any]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [s["name"] for s in stages]
    secs = [s["wall_s"] for s in stages]
    colors = {"ok": "#2e7d32", "partial": "#f9a825", "failed": "#c62828"}
    fig, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * max(len(names), 1)))
    ax.barh(names[::-1], secs[::-1], color=[colors.get(s["status"], "#777") for s in stages][::-1])
    ax.set_xlabel("seconds")
    ax.set_title("stage durations")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _table(rows: list[tuple[str, str]], head: tuple[str, str] = ("", "")) -> str:
    body = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table><tr><th>{head[0]}</th><th>{head[1]}</th></tr>{body}</table>"


def render_night_html(data: dict[str, Any]) -> str:
    """The morning report of one night as a self-contained HTML page (Korean headings)."""
    e = html.escape
    status = data.get("status", "?")
    color = {"ok": "#2e7d32", "partial": "#f9a825", "failed": "#c62828"}.get(status, "#555")
    stages = data.get("stages", [])
    parts = [
        "<!doctype html><html lang='ko'><head><meta charset='utf-8'>",
        f"<title>야간 배치 보고서 {e(data.get('day', ''))}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;"
        "margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}"
        "th{background:#f3f3f3}.badge{color:#fff;padding:2px 10px;border-radius:8px}</style></head><body>",
        f"<h1>야간 배치 보고서 — {e(data.get('day', ''))} "
        f"<span class='badge' style='background:{color}'>{e(status)}</span></h1>",
        f"<p>{e(data.get('message', ''))}</p>",
        f"<p>시작 {e(data.get('started_at', ''))} · 종료 {e(data.get('finished_at', ''))} · "
        f"{data.get('wall_s', 0)} s</p>",
        "<h2>한눈에 보기 (summary)</h2>" + _table(flatten(data.get("summary", {})), ("figure", "value")),
        "<h2>단계별 결과 (stages)</h2><table><tr><th>stage</th><th>status</th><th>exit</th><th>seconds</th>"
        "<th>log</th></tr>",
    ]
    for s in stages:
        parts.append(
            f"<tr><td>{e(s['name'])}</td><td>{e(s['status'])}</td><td>{s['exit_code']}</td>"
            f"<td>{s['wall_s']}</td><td>{e(s['log'])}</td></tr>"
        )
    parts.append("</table>")
    if stages:
        parts.append(f"<img alt='stage durations' src='data:image/png;base64,{_durations_png(stages)}'>")
    for s in stages:
        parts.append(f"<h2>{e(s['name'])}</h2>")
        failures: list[tuple[str, str]] = []
        for rec in s.get("run_records", []):
            rows = flatten({"counts": rec.get("counts", {}), "extra": rec.get("extra", {})})
            parts.append(f"<h3>run {e(str(rec.get('stage')))} {e(str(rec.get('run_id')))}</h3>")
            parts.append(_table(rows, ("figure", "value")))
            failures += [(str(f.get("item")), str(f.get("reason"))) for f in rec.get("failures", [])]
        if isinstance(s.get("result"), dict):
            parts.append("<h3>result</h3>" + _table(flatten(s["result"]), ("key", "value")))
        if failures:
            parts.append("<h3>실패 항목 (failed inputs)</h3>" + _table(failures, ("item", "reason")))
    ret = data.get("retention") or {}
    if ret:
        title = "보존 정책 (retention) — dry run" if ret.get("dry_run") else "보존 정책 (retention)"
        parts.append(f"<h2>{title}</h2>")
        parts.append(_table(flatten(ret.get("summary", {})), ("kind", "value")))
        items = [(i["path"], i["reason"]) for i in ret.get("items", [])]
        if items:
            parts.append(_table(items, ("purged" if not ret.get("dry_run") else "would purge", "reason")))
        kept = [(k["path"], k["reason"]) for k in ret.get("kept", [])]
        if kept:
            parts.append(_table(kept, ("kept", "why")))
    parts.append("</body></html>")
    return "\n".join(parts)
