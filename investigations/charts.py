"""Charts drawn as SVG on the server: the same markup serves web pages and PDF dossiers."""
from markupsafe import Markup, escape


def bar_chart(labels: list[str], values: list[int], title: str, width: int = 640, height: int = 240) -> Markup:
    """A labelled bar chart. Labels and title are escaped; every number is the app's own."""
    left, bottom, top = 36, 40, 28
    plot_w, plot_h = width - left - 10, height - top - bottom
    peak = max(values, default=0) or 1
    slot = plot_w / max(len(values), 1)
    bar_w = max(slot * 0.7, 1)
    label_every = max(1, len(labels) // 12)  # keep at most ~12 labels legible
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}" class="chart">',
        f'<title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#90a4ae"/>',
        f'<text x="{left - 6}" y="{top + 4}" font-size="11" text-anchor="end" fill="#546e7a">{peak}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" font-size="11" text-anchor="end" fill="#546e7a">0</text>',
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar_h = plot_h * value / peak
        x = left + index * slot + (slot - bar_w) / 2
        y = top + plot_h - bar_h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" fill="#1565c0">'
                     f'<title>{escape(label)}: {value}</title></rect>')
        if value:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" font-size="10" text-anchor="middle" '
                         f'fill="#263238">{value}</text>')
        if index % label_every == 0:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" font-size="10" '
                         f'text-anchor="middle" fill="#546e7a">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
