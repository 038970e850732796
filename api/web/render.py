"""Presentation helpers for the pages: highlighted spans, score bars and charts as inline SVG, formatting.

Nothing here decides anything; it only turns what the domain functions return into escaped markup.
Colours come from CSS classes (the Content-Security-Policy allows no inline styles), and every colour
is paired with text, so nothing is told by colour alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup, escape

from model.categories import CATEGORIES

CATEGORY_LABELS: dict[str, str] = {
    "toxicity": "toxicity",
    "severe_toxicity": "severe toxicity",
    "obscene": "obscene",
    "threat": "threat",
    "insult": "insult",
    "identity_attack": "identity attack",
    "spam": "spam",
}


def category_label(category: str | None) -> str:
    """A category as people read it."""
    if category is None:
        return "none"
    return CATEGORY_LABELS.get(category, category.replace("_", " "))


def highlight(text: str, spans: Iterable[Mapping[str, Any]] | None) -> Markup:
    """The comment with each span that drove a score marked: a colour per category and its name in text."""
    marks: list[tuple[int, int, str]] = []
    for span in spans or ():
        start, end, category = span.get("start"), span.get("end"), span.get("category")
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text) and category:
            marks.append((start, end, str(category)))
    if not marks:
        return Markup(escape(text))
    # Cut the text at every span edge; each piece carries the categories of the spans covering it.
    edges = sorted({0, len(text), *(s for s, _, _ in marks), *(e for _, e, _ in marks)})
    pieces: list[str] = []
    for left, right in zip(edges, edges[1:], strict=False):
        covering = sorted({c for s, e, c in marks if s <= left and right <= e}, key=_category_order)
        chunk = escape(text[left:right])
        if not covering:
            pieces.append(str(chunk))
            continue
        names = ", ".join(category_label(c) for c in covering)
        classes = " ".join(f"hl-{c}" for c in covering)
        pieces.append(f'<mark class="hl {classes}" title="{escape(names)}">{chunk}</mark>')
        # After a span ends, its category in words: the highlight does not rely on colour alone.
        ending = sorted({c for _, e, c in marks if e == right and c in covering}, key=_category_order)
        if ending:
            tag = ", ".join(category_label(c) for c in ending)
            pieces.append(
                f'<sup class="hl-tag"><span class="visually-hidden">(</span>{escape(tag)}'
                '<span class="visually-hidden">)</span></sup>'
            )
    return Markup("".join(pieces))


def _category_order(category: str) -> int:
    return CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES)


def span_categories(spans: Iterable[Mapping[str, Any]] | None) -> list[str]:
    """The categories that have spans, in the usual order (for the legend)."""
    return sorted({str(s["category"]) for s in spans or () if s.get("category")}, key=_category_order)


def score_rows(scores: Mapping[str, float] | None, thresholds: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """One row per category, highest score first: score, the thresholds in force, and what it triggered."""
    rows = []
    for category, value in (scores or {}).items():
        limits = (thresholds or {}).get(category) or {}
        review, reject = limits.get("review"), limits.get("reject")
        triggered = "reject" if reject is not None and value >= reject else None
        if triggered is None and review is not None and value >= review:
            triggered = "review"
        rows.append(
            {
                "category": category,
                "label": category_label(category),
                "value": float(value),
                "review": review,
                "reject": reject,
                "triggered": triggered,
                "bar": score_bar(category, float(value), review, reject),
            }
        )
    return sorted(rows, key=lambda row: -row["value"])


def _x(value: float, width: float) -> str:
    return f"{max(0.0, min(1.0, value)) * width:.1f}"


def score_bar(category: str, value: float, review: float | None, reject: float | None) -> Markup:
    """A small bar of a score in [0, 1] with ticks at the review (dashed) and reject (solid) thresholds."""
    width, height = 120, 12
    parts = [
        f'<svg class="bar" viewBox="0 0 {width} {height}" width="{width}" height="{height}" aria-hidden="true" '
        'focusable="false">',
        f'<rect class="bar-track" x="0" y="2" width="{width}" height="{height - 4}" rx="2"></rect>',
        f'<rect class="bar-fill fill-{escape(category)}" x="0" y="2" width="{_x(value, width)}" '
        f'height="{height - 4}" rx="2"></rect>',
    ]
    if review is not None:
        x = _x(review, width)
        parts.append(f'<line class="tick tick-review" x1="{x}" x2="{x}" y1="0" y2="{height}"></line>')
    if reject is not None:
        x = _x(reject, width)
        parts.append(f'<line class="tick tick-reject" x1="{x}" x2="{x}" y1="0" y2="{height}"></line>')
    parts.append("</svg>")
    return Markup("".join(parts))


def link_target(url: str | None) -> str | None:
    """A site-supplied URL fit to link to: http(s) or a path on this site; None for anything else (javascript:...)."""
    if not url:
        return None
    text = url.strip()
    lowered = text.lower()
    if lowered.startswith(("http://", "https://")) or (text.startswith("/") and not text.startswith("//")):
        return text
    return None


def percent(value: float | None, digits: int = 0) -> str:
    """A share as a percentage, or an em dash when there is nothing to divide."""
    if not isinstance(value, int | float):
        return "—"
    return f"{value * 100:.{digits}f} %"


def number(value: float | None, digits: int = 2) -> str:
    """A number with a few decimals, or an em dash when there is none."""
    if not isinstance(value, int | float):
        return "—"
    return f"{value:.{digits}f}"


def when(stamp: str | None) -> str:
    """A stored UTC timestamp, shortened for tables (`2026-03-01 12:00 UTC`)."""
    if not stamp:
        return "—"
    try:
        moment = datetime.fromisoformat(stamp).astimezone(UTC)
    except ValueError:
        return stamp
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def duration(seconds: float | None) -> str:
    """A wait in the largest sensible unit (`3 min`, `5 h 10 min`, `2 d 4 h`)."""
    if seconds is None:
        return "—"
    minutes = int(seconds // 60)
    if minutes < 1:
        return f"{int(seconds)} s"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def age(stamp: str | None, now: datetime | None = None) -> str:
    """How long ago a stored timestamp was."""
    if not stamp:
        return "—"
    moment = datetime.fromisoformat(stamp)
    return duration(max(((now or datetime.now(UTC)) - moment).total_seconds(), 0.0))


# ---------------------------------------------------------------------------
# The decisions-per-day chart

SERIES_CLASSES = 8


def day_chart(days: Sequence[str], series: Sequence[Mapping[str, Any]], names: Sequence[str]) -> Markup:
    """Stacked bars, one per day, one colour (and legend entry) per actor; an inline SVG with a title."""
    width, height, left, bottom, top = 640, 220, 36, 28, 10
    totals = [sum(entry["counts"][i] for entry in series) for i in range(len(days))]
    peak = max(totals + [1])
    scale_top = _nice_ceiling(peak)
    plot_height = height - bottom - top
    slot = (width - left) / max(len(days), 1)
    bar = slot * 0.7
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title">',
        '<title id="chart-title">Decisions per day by actor (the table below has the numbers)</title>',
    ]
    for step in range(5):
        value = scale_top * step / 4
        y = top + plot_height - plot_height * step / 4
        parts.append(f'<line class="grid" x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}"></line>')
        parts.append(f'<text class="axis" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>')
    for i, day in enumerate(days):
        x = left + slot * i + (slot - bar) / 2
        y = top + plot_height
        for index, entry in enumerate(series):
            count = entry["counts"][i]
            if not count:
                continue
            h = plot_height * count / scale_top
            y -= h
            parts.append(
                f'<rect class="series-{index % SERIES_CLASSES}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}"><title>{escape(names[index])}: {count} on {escape(day)}</title></rect>'
            )
        if len(days) <= 16 or i % 2 == 0:
            parts.append(
                f'<text class="axis" x="{x + bar / 2:.1f}" y="{height - 10}" text-anchor="middle">'
                f"{escape(day[5:])}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _nice_ceiling(value: int) -> int:
    for step in (4, 8, 20, 40, 100, 200, 400, 1000, 2000, 4000, 10000):
        if value <= step:
            return step
    return int(value * 1.1) + 1


def swatch(index: int) -> Markup:
    """A small square in a chart series' colour, for the legend beside its name."""
    return Markup(
        f'<svg class="swatch" viewBox="0 0 10 10" width="12" height="12" aria-hidden="true" focusable="false">'
        f'<rect class="series-{index % SERIES_CLASSES}" width="10" height="10"></rect></svg>'
    )


def category_swatch(category: str) -> Markup:
    """A small square in a category's highlight colour, for the spans' legend."""
    return Markup(
        '<svg class="swatch" viewBox="0 0 10 10" width="12" height="12" aria-hidden="true" focusable="false">'
        f'<rect class="hl-fill-{escape(category)}" width="10" height="10"></rect></svg>'
    )


def register_filters(env: Any) -> None:
    """Make the helpers available in the templates."""
    env.filters.update(
        percent=percent,
        number=number,
        when=when,
        age=age,
        duration=duration,
        category_label=category_label,
        link_target=link_target,
    )
    env.globals.update(
        highlight=highlight,
        score_rows=score_rows,
        span_categories=span_categories,
        swatch=swatch,
        category_swatch=category_swatch,
    )
