"""Pure figure builders: the wall's bar charts (the 3-D panel is :mod:`app.panel3d`).

Why HTML bars and not plotly: three bar charts do not need the 4.8 MB plotly
bundle, whose parse alone held the wall's first render for over a second in
headless Chromium (issue 6). A row is a label, a bar whose width is its share
of the largest count, and the count — readable from across the hall.
"""

from __future__ import annotations

from collections import Counter

from dash import html

__all__ = ["bar", "counts_by"]


def counts_by(features: list[dict], key, label) -> dict[str, int]:
    """Counts of features by ``key(properties)``, labelled by ``label(value)``, largest first."""
    c = Counter(key(f.get("properties") or {}) for f in features)
    c.pop(None, None)
    return {label(k): n for k, n in c.most_common(12)}


def bar(counts: dict[str, int], title: str, color: str = "#3fa7ff") -> list:
    """A horizontal bar chart, largest first, as the children of a chart box.

    Examples
    --------
    >>> rows = bar({"市容环境": 30, "街面秩序": 10}, "按大类")[1].children
    >>> [r.children[1].children.style["width"] for r in rows]
    ['100.0%', '33.3%']
    """
    top = max(counts.values(), default=0) or 1
    rows = [html.Div([html.Span(label, className="bar-label", title=label),
                      html.Div(html.Div(style={"width": f"{100 * n / top:.1f}%", "background": color},
                                        className="bar-fill"), className="bar-track"),
                      html.Span(f"{n:,}", className="bar-value")], className="bar-row")
            for label, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    return [html.Div(title, className="bars-title"), html.Div(rows, className="bars")]
