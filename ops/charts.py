"""Bar charts as inline SVG, drawn on the server: no chart library, no CDN, readable without JavaScript.

Two shapes: vertical bars over a sequence (`bar_chart`: per slot, per day) and horizontal bars for a
ranking with long labels (`ranking_chart`: top dishes, reasons). Every bar carries its label and raw
value (`data-label`, `data-value`) and a hover title in the reader's format (`value_text`).
"""

from collections.abc import Callable, Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 180, 32, 34, 10
RANKING_ROW, RANKING_LABEL_W, RANKING_LABEL_CHARS = 22, 200, 30

Value = int | float


def _number(value: Value) -> str:
    """A plain number: integers without a decimal point, fractions to one decimal."""
    return str(value) if isinstance(value, int) else f"{value:.1f}"


def _svg(title: str, height: int, body: SafeString) -> SafeString:
    return format_html(
        '<svg class="ops-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        "<style>.bar{{fill:#417690}} .bar:hover{{fill:#79aec8}}</style>{}</svg>",
        title,
        WIDTH,
        height,
        body,
    )


def bar_chart(
    bars: Sequence[tuple[str, Value]],
    *,
    title: str,
    label_every: int = 1,
    peak: Value | None = None,
    value_text: Callable[[Value], str] = _number,
) -> SafeString:
    """Vertical bars with a y-axis maximum (`peak`, else the largest value), each bar titled with its
    label and value (hover)."""
    top = peak or max((value for _, value in bars), default=0) or 1
    plot_w, plot_h = WIDTH - PAD_LEFT - 4, HEIGHT - PAD_BOTTOM - PAD_TOP
    step = plot_w / max(len(bars), 1)
    rects = []
    for i, (label, value) in enumerate(bars):
        h = plot_h * min(value, top) / top
        x = PAD_LEFT + i * step
        rects.append(
            (
                f"{x + 1:.1f}",
                f"{PAD_TOP + plot_h - h:.1f}",
                f"{max(step - 2, 1):.1f}",
                f"{h:.1f}",
                label,
                value,
                value_text(value),
            )
        )
    bars_svg = format_html_join(
        "",
        '<rect class="bar" x="{0}" y="{1}" width="{2}" height="{3}" data-label="{4}" data-value="{5}">'
        "<title>{4}: {6}</title></rect>",
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
    axis = format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999"/>'
        '<text x="2" y="{}" font-size="10">{}</text><text x="2" y="{}" font-size="10">0</text>',
        PAD_LEFT,
        PAD_TOP + plot_h,
        WIDTH - 4,
        PAD_TOP + plot_h,
        PAD_TOP + 8,
        value_text(top),  # the axis reads as the bars do: 1.526.000 ₫
        PAD_TOP + plot_h,
    )
    return _svg(title, HEIGHT, format_html("{}{}{}", axis, bars_svg, labels_svg))


def ranking_chart(
    rows: Sequence[tuple[str, Value]], *, title: str, value_text: Callable[[Value], str] = _number
) -> SafeString:
    """Horizontal bars, one row per label (in the given order), the value written after each bar."""
    top = max((value for _, value in rows), default=0) or 1
    plot_w = WIDTH - RANKING_LABEL_W - 60
    height = max(len(rows), 1) * RANKING_ROW + 4
    drawn = []
    for i, (label, value) in enumerate(rows):
        y = 2 + i * RANKING_ROW
        w = max(plot_w * value / top, 1)
        short = label if len(label) <= RANKING_LABEL_CHARS else label[: RANKING_LABEL_CHARS - 1] + "…"
        drawn.append(
            (
                y + 14,
                short,
                RANKING_LABEL_W,
                y + 3,
                f"{w:.1f}",
                label,
                value,
                value_text(value),
                f"{RANKING_LABEL_W + w + 4:.1f}",
            )
        )
    body = format_html_join(
        "",
        '<text x="{2}" y="{0}" font-size="11" text-anchor="end" dx="-6">{1}</text>'
        '<rect class="bar" x="{2}" y="{3}" width="{4}" height="14" data-label="{5}" data-value="{6}">'
        "<title>{5}: {7}</title></rect>"
        '<text x="{8}" y="{0}" font-size="11">{7}</text>',
        drawn,
    )
    return _svg(title, height, body)
