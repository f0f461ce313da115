"""Charts drawn as SVG on the server: the same markup serves web pages and PDF dossiers.

Every label and title is escaped; every number is the app's own. Colours and sizes are SVG
presentation attributes, not style attributes, so the charts need no inline CSS.
"""
import math

from markupsafe import Markup, escape

BAR_COLOUR = "#1565c0"
HIGHLIGHT_COLOUR = "#c62828"
AXIS_COLOUR = "#90a4ae"
LABEL_COLOUR = "#546e7a"
VALUE_COLOUR = "#263238"


def _svg_open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}" class="chart">',
        f'<title>{escape(title)}</title>',
    ]


def bar_chart(labels: list[str], values: list[int], title: str, width: int = 640, height: int = 240, *,
              label_latest: bool = False) -> Markup:
    """A labelled bar chart. Labels and title are escaped; every number is the app's own.

    With many bars only every n-th is labelled, counting from the first bar, or from the last
    with `label_latest` (for time series, so the most recent bar always has its label).
    """
    peak = max(values, default=0) or 1
    left, bottom, top = max(36, len(str(peak)) * 7 + 10), 40, 28  # room for the peak's digits
    plot_w, plot_h = width - left - 10, height - top - bottom
    slot = plot_w / max(len(values), 1)
    bar_w = max(slot * 0.7, 1)
    # Label every n-th bar, so that labels (about 6.2 px a character at font-size 10) never touch.
    label_w = max((len(label) for label in labels), default=0) * 6.2 + 10
    label_every = max(1, math.ceil(label_w / slot))
    labelled = (len(labels) - 1) % label_every if label_latest else 0
    parts = [
        *_svg_open(width, height, title),
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="{AXIS_COLOUR}"/>',
        f'<text x="{left - 6}" y="{top + 4}" font-size="11" text-anchor="end" fill="{LABEL_COLOUR}">{peak}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" font-size="11" text-anchor="end" fill="{LABEL_COLOUR}">0</text>',
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar_h = plot_h * value / peak
        x = left + index * slot + (slot - bar_w) / 2
        y = top + plot_h - bar_h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" fill="{BAR_COLOUR}">'
                     f'<title>{escape(label)}: {value}</title></rect>')
        if value and len(str(value)) * 6 + 4 <= slot:  # numbers wider than their slot would run together
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" font-size="10" text-anchor="middle" '
                         f'fill="{VALUE_COLOUR}">{value}</text>')
        if index % label_every == labelled:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" font-size="10" '
                         f'text-anchor="middle" fill="{LABEL_COLOUR}">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def shorten(label: str, max_chars: int) -> str:
    """`label` cut to `max_chars` characters with an ellipsis (the full label stays in the bar's tooltip)."""
    label = " ".join(str(label).split())
    return label if len(label) <= max_chars else label[:max_chars - 1].rstrip() + "…"


def hbar_chart(labels: list[str], values: list[int], title: str, width: int = 640, row_height: int = 26,
               max_label_chars: int = 30, highlight: frozenset[int] | set[int] = frozenset()) -> Markup:
    """Horizontal bars, one row per label: for long labels (business names, categories, people).

    Labels longer than `max_label_chars` are shortened with an ellipsis; each bar's tooltip keeps
    the full label. Rows whose index is in `highlight` are drawn in the highlight colour.
    """
    peak = max(values, default=0) or 1
    shown = [shorten(label, max_label_chars) for label in labels]
    # About 7.2 px a character at font-size 12 (wide fonts); the labels take at most 45% of the width.
    label_w = min(max((len(s) for s in shown), default=4) * 7.2 + 14, width * 0.45)
    value_w = len(str(peak)) * 7 + 10
    plot_w = width - label_w - value_w
    top = 4
    height = top * 2 + row_height * max(len(values), 1)
    bar_h = row_height * 0.66
    parts = [
        *_svg_open(width, height, title),
        f'<line x1="{label_w:.1f}" y1="{top}" x2="{label_w:.1f}" y2="{height - top}" stroke="{AXIS_COLOUR}"/>',
    ]
    for index, (label, short, value) in enumerate(zip(labels, shown, values, strict=True)):
        y = top + index * row_height
        middle = y + row_height / 2
        bar_w = plot_w * value / peak
        colour = HIGHLIGHT_COLOUR if index in highlight else BAR_COLOUR
        parts.append(f'<text x="{label_w - 6:.1f}" y="{middle + 4:.1f}" font-size="12" text-anchor="end" '
                     f'fill="{LABEL_COLOUR}">{escape(short)}</text>')
        parts.append(f'<rect x="{label_w:.1f}" y="{middle - bar_h / 2:.1f}" width="{bar_w:.1f}" '
                     f'height="{bar_h:.1f}" fill="{colour}"><title>{escape(label)}: {value}</title></rect>')
        parts.append(f'<text x="{label_w + bar_w + 4:.1f}" y="{middle + 4:.1f}" font-size="11" '
                     f'fill="{VALUE_COLOUR}">{value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
