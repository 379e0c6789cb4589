"""Bar charts as inline SVG, drawn on the server: no chart library, nothing to download."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT, PAD = 720, 160, 22


def bars(points: Sequence[tuple[str, int]], title: str) -> str:
    """An SVG of one bar per (label, value); labels under every few bars, the top value."""
    top = max((v for _, v in points), default=0) or 1
    n = max(len(points), 1)
    slot = (WIDTH - 2 * PAD) / n
    every = max(1, n // 12)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + 2 * PAD}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<text x="{PAD}" y="14" class="chart-top">{top}</text>',
    ]
    for i, (label, value) in enumerate(points):
        h = round(HEIGHT * value / top)
        x = PAD + i * slot
        y = PAD + HEIGHT - h
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{y}" width="{max(slot - 2, 1):.1f}" height="{h}">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{HEIGHT + PAD + 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
