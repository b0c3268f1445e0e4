"""Inline SVG charts for reports a person looks at (the backtest report): stacked bars over days
and a heatmap of counts. No JavaScript, no external file: each chart is one ``<svg>`` element.

Every bar segment carries ``class="bar"``, ``data-x`` (its day), ``data-series`` and ``data-value``
and a ``<title>`` (the browser's tooltip), so tests read the numbers back from the picture.
Day labels under the x axis are turned 45° and thinned until they cannot overlap. A bar more than
three times the next tallest (a replay's first day takes in every item the feeds hold) is cut at
the top of the axis, marked with a break and labelled with its value, so the other days stay
readable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

# Okabe–Ito: told apart by colour-blind readers too
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")
FONT = 11          # px, tick and axis labels
CHAR_WIDTH = 0.62  # of the font size: a digit or a dash in a sans-serif face
LABEL_ANGLE = 45   # degrees the x labels are turned


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """0 and round steps (1, 2, 2.5 or 5 × 10^k) up to at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return [round(i * step, 10) for i in range(math.ceil(top / step - 1e-9) + 1)]


def axis_top(totals: Sequence[float], outlier: float = 3.0) -> float:
    """The value the y axis reaches: the tallest bar, unless it is more than ``outlier`` times
    the next tallest (then a little above that one, and the tallest is cut)."""
    ordered = sorted(totals, reverse=True)
    if len(ordered) >= 4 and ordered[1] > 0 and ordered[0] > outlier * ordered[1]:
        return ordered[1] * 1.15
    return ordered[0] if ordered else 0.0


def label_step(gap: float, text_len: int, font: float = FONT, angle: float = LABEL_ANGLE) -> int:
    """Show every n-th x label so that turned labels ``gap`` px apart do not overlap: two
    neighbours turned by ``angle`` are ``gap·sin(angle)`` apart across the text, which must hold a
    line of text; flat labels need their whole width."""
    if angle:
        room = gap * math.sin(math.radians(angle))
        need = font * 1.15
    else:
        room, need = gap, text_len * font * CHAR_WIDTH + 4
    return max(1, math.ceil(need / room)) if room > 0 else 1


def _fmt(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3g}"


def stacked_bars(title: str, labels: Sequence[str], series: Sequence[Series], *, unit: str = "",
                 width: int = 1000, height: int = 220, short: int = 5) -> str:
    """Bars over ``labels`` (days), one segment per series, stacked in order, with a legend when
    there is more than one series. ``short`` keeps the last characters of a label ("05-01")."""
    n = len(labels)
    if not n or not series:
        return ""
    totals = [sum(s.values[i] for s in series) for i in range(n)]
    ticks = nice_ticks(axis_top(totals))
    cut = any(t > ticks[-1] for t in totals)
    left, right, legend_h = 58, 12, (22 if len(series) > 1 else 0)
    top_pad = 26 + legend_h + (16 if cut else 0)  # room for a cut bar's value
    label_h = 44
    plot_w, plot_h = width - left - right, height
    total_h = top_pad + plot_h + label_h
    scale = plot_h / ticks[-1]
    gap = plot_w / n
    bar_w = max(1.0, min(gap * 0.78, 44.0))
    base_y = top_pad + plot_h
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total_h}" width="{width}" '
           f'height="{total_h}" role="img" aria-label="{escape(title)}" font-family="system-ui, sans-serif">',
           f'<text x="0" y="16" font-size="14" font-weight="600">{escape(title)}</text>']
    if legend_h:
        x: float = left
        for k, s in enumerate(series):
            colour = PALETTE[k % len(PALETTE)]
            out.append(f'<rect class="legend" x="{x}" y="28" width="11" height="11" fill="{colour}"/>'
                       f'<text x="{x + 15}" y="38" font-size="{FONT}">{escape(s.name)}</text>')
            x += 15 + len(s.name) * FONT * CHAR_WIDTH + 22
    for tick in ticks:
        y = base_y - tick * scale
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="{FONT}" text-anchor="end">'
                   f'{escape(_fmt(tick))}</text>')
    if unit:
        out.append(f'<text x="12" y="{top_pad + plot_h / 2:.1f}" font-size="{FONT}" text-anchor="middle" '
                   f'transform="rotate(-90 12 {top_pad + plot_h / 2:.1f})">{escape(unit)}</text>')
    for i, label in enumerate(labels):
        x = left + i * gap + (gap - bar_w) / 2
        y = base_y
        squeeze = min(1.0, ticks[-1] / totals[i]) if totals[i] else 1.0  # < 1: a cut bar
        for k, s in enumerate(series):
            value = s.values[i]
            h = value * scale * squeeze
            y -= h
            tip = f"{label} {s.name}: {_fmt(value)}{(' ' + unit) if unit else ''}"
            out.append(f'<rect class="bar" data-x="{escape(label)}" data-series="{escape(s.name)}" '
                       f'data-value="{value:g}" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                       f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(tip)}</title></rect>')
        if squeeze < 1.0:
            out.append(f'<path class="break" d="M{x - 2:.1f} {top_pad + 14} l{bar_w + 4:.1f} -8 v5 '
                       f'l-{bar_w + 4:.1f} 8 z" '
                       f'fill="#fff"/><text class="cut" x="{x + bar_w / 2:.1f}" y="{top_pad - 3}" font-size="{FONT}" '
                       f'text-anchor="middle" font-weight="600">{escape(_fmt(totals[i]))}</text>')
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{base_y}" y2="{base_y}" stroke="#555"/>')
    out.extend(x_labels(labels, left, gap, base_y, short))
    out.append("</svg>")
    return "".join(out)


def heatmap(title: str, rows: Sequence[str], columns: Sequence[str], counts: Mapping[tuple[str, str], float],
            *, width: int = 1000, short: int = 5, name_width: int = 230) -> str:
    """A grid, one row per ``rows`` entry and one column per ``columns`` entry (days); each cell
    shaded by its count and showing it. Row totals at the right."""
    if not rows or not columns:
        return ""
    cell_h, total_w, top_pad = 17, 48, 30
    gap = (width - name_width - total_w) / len(columns)
    label_h = 40
    grid_h = cell_h * len(rows)
    height = top_pad + grid_h + label_h
    top = max(counts.values(), default=0) or 1
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="{escape(title)}" font-family="system-ui, sans-serif">',
           f'<text x="0" y="16" font-size="14" font-weight="600">{escape(title)}</text>',
           f'<text x="{width - 4}" y="{top_pad - 6}" font-size="{FONT}" text-anchor="end">total</text>']
    for r, row in enumerate(rows):
        y = top_pad + r * cell_h
        name = row if len(row) <= 34 else row[:33] + "…"
        out.append(f'<text x="{name_width - 6}" y="{y + cell_h - 5}" font-size="{FONT}" text-anchor="end">'
                   f'<title>{escape(row)}</title>{escape(name)}</text>')
        for c, column in enumerate(columns):
            value = counts.get((row, column), 0)
            x = name_width + c * gap
            shade = 0.0 if not value else 0.15 + 0.85 * math.sqrt(value / top)
            fill = _blend(shade)
            out.append(f'<rect class="cell" data-row="{escape(row)}" data-x="{escape(column)}" data-value="{value:g}" '
                       f'x="{x:.1f}" y="{y}" width="{gap - 1:.1f}" height="{cell_h - 1}" fill="{fill}">'
                       f'<title>{escape(row)}, {escape(column)}: {_fmt(value)}</title></rect>')
            if value:
                ink = "#fff" if shade > 0.55 else "#123"
                out.append(f'<text x="{x + (gap - 1) / 2:.1f}" y="{y + cell_h - 5}" font-size="{FONT - 1}" '
                           f'text-anchor="middle" fill="{ink}">{escape(_fmt(value))}</text>')
        total = sum(counts.get((row, column), 0) for column in columns)
        out.append(f'<text x="{width - 4}" y="{y + cell_h - 5}" font-size="{FONT}" text-anchor="end">'
                   f'{escape(_fmt(total))}</text>')
    out.extend(x_labels(columns, name_width, gap, top_pad + grid_h, short))
    out.append("</svg>")
    return "".join(out)


def x_labels(labels: Sequence[str], left: float, gap: float, base_y: float, short: int) -> list[str]:
    """Day labels under a chart's columns, turned and thinned (``label_step``) so they never overlap."""
    step = label_step(gap, short)
    out = []
    for i, label in enumerate(labels):
        if i % step:
            continue
        x, y = left + i * gap + gap / 2, base_y + 12
        out.append(f'<text class="x-label" x="{x:.1f}" y="{y}" font-size="{FONT}" text-anchor="end" '
                   f'transform="rotate(-{LABEL_ANGLE} {x:.1f} {y})">{escape(label[-short:])}</text>')
    return out


def _blend(shade: float) -> str:
    """White to PALETTE[0] (blue) by ``shade`` in 0..1."""
    if shade <= 0:
        return "#f4f4f4"
    r0, g0, b0 = 255, 255, 255
    r1, g1, b1 = 0x00, 0x72, 0xB2
    mix = [round(a + (b - a) * shade) for a, b in ((r0, r1), (g0, g1), (b0, b1))]
    return "#" + "".join(f"{v:02x}" for v in mix)


__all__ = ["Series", "stacked_bars", "heatmap", "nice_ticks", "label_step", "axis_top"]
