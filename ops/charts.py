"""Bar charts as inline SVG, drawn on the server: no chart library, no CDN, readable without JavaScript."""

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 180, 32, 34, 10


def bar_chart(bars: Sequence[tuple[str, int]], *, title: str, label_every: int = 1) -> SafeString:
    """Vertical bars with a y-axis maximum, each bar titled with its label and value (hover)."""
    peak = max((value for _, value in bars), default=0) or 1
    plot_w, plot_h = WIDTH - PAD_LEFT - 4, HEIGHT - PAD_BOTTOM - PAD_TOP
    step = plot_w / max(len(bars), 1)
    rects = []
    for i, (label, value) in enumerate(bars):
        h = plot_h * value / peak
        x = PAD_LEFT + i * step
        rects.append(
            (
                f"{x + 1:.1f}",
                f"{PAD_TOP + plot_h - h:.1f}",
                f"{max(step - 2, 1):.1f}",
                f"{h:.1f}",
                label,
                value,
            )
        )
    bars_svg = format_html_join(
        "",
        '<rect class="bar" x="{0}" y="{1}" width="{2}" height="{3}" data-label="{4}" data-value="{5}">'
        "<title>{4}: {5}</title></rect>",
        rects,
    )
    labels_svg = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="10" text-anchor="middle">{}</text>',
        (
            (f"{PAD_LEFT + i * step + step / 2:.1f}", HEIGHT - PAD_BOTTOM + 14, label)
            for i, (label, _) in enumerate(bars)
            if i % label_every == 0
        ),
    )
    return format_html(
        '<svg class="ops-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        "<style>.bar{{fill:#417690}} .bar:hover{{fill:#79aec8}}</style>"
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999"/>'
        '<text x="2" y="{}" font-size="10">{}</text><text x="2" y="{}" font-size="10">0</text>'
        "{}{}</svg>",
        title,
        WIDTH,
        HEIGHT,
        PAD_LEFT,
        PAD_TOP + plot_h,
        WIDTH - 4,
        PAD_TOP + plot_h,
        PAD_TOP + 8,
        peak,
        PAD_TOP + plot_h,
        bars_svg,
        labels_svg,
    )
