"""HTML reports from jinja2 templates kept as package data: one base layout for every report (issue 12)."""

from __future__ import annotations

import base64
import io
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

__all__ = ["figure", "kst", "render_page"]

_KST = ZoneInfo("Asia/Seoul")


def kst(value: str | datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC timestamp (ISO text or datetime) as Korea time, for pages read by Korean staff."""
    if value in (None, ""):
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        return when.strftime(fmt)
    return when.astimezone(_KST).strftime(fmt) + " KST"


def _number(value: Any, digits: int = 0) -> str:
    """Thousands separators; floats rounded to `digits`, and integral floats shown without `.0`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and (digits == 0 or value.is_integer()):
        return f"{round(value):,}"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cdna", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,  # a missing figure is a bug, not an empty cell
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["kst"] = kst
    env.filters["number"] = _number
    return env


def render_page(template: str, **context: Any) -> str:
    """Render `cdna/templates/<template>` (which extends base.html) with `context`."""
    return _env().get_template(template).render(**context)


def figure(fig: Any, dpi: int = 90) -> str:
    """A matplotlib figure as a `data:` URI (reports are single self-contained files); closes the figure."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
