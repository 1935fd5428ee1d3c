"""Our own simple pictograms, drawn as inline SVG strokes (no image file, no third-party set).

They are decorative: the text next to them always says the same thing, so each SVG is
`aria-hidden` and never takes the focus. Colour follows the text (`currentColor`).
"""

from __future__ import annotations

from html import escape

# 24 × 24 grid, 2-unit strokes.
_DRAWINGS: dict[str, str] = {
    # a shopping bag, and an arrow taking something out of it
    "vol": '<path d="M2 9h10l-1 11H3z"/><path d="M4.5 9V7a2.5 2.5 0 0 1 5 0v2"/>'
           '<path d="M14.5 14.5H22M19 11.5l3 3-3 3"/>',
    # a jagged flash: a blow
    "agression": '<path d="M13 2 5 13h6l-2 9 9-12h-6z"/>',
    # a house whose wall is cracked open
    "cambriolage": '<path d="M3 11 12 3l9 8"/><path d="M5 9.5V20h14V9.5"/>'
                   '<path d="m11 20 1.5-3-2-2 2-3"/>',
    # a banknote struck through: false payment, false identity
    "escroquerie": '<rect x="2" y="6" width="20" height="12" rx="2"/><circle cx="12" cy="12" '
                   'r="2.5"/><path d="M3 21 21 3"/>',
    # a shield with a tick
    "prévention": '<path d="M12 2 4 5v6c0 5 3.4 8.6 8 11 4.6-2.4 8-6 8-11V5z"/>'
                  '<path d="m8.5 12 2.5 2.5 4.5-5"/>',
    # a mobile phone (the « 17 » banner)
    "telephone": '<rect x="7" y="2" width="10" height="20" rx="2"/><path d="M11 18h2"/>',
    # a dot sending waves: the network's mark
    "reseau": '<circle cx="12" cy="12" r="2"/><path d="M8.5 8.5a5 5 0 0 0 0 7M15.5 8.5a5 5 0 '
              '0 1 0 7M5.6 5.6a9 9 0 0 0 0 12.8M18.4 5.6a9 9 0 0 1 0 12.8"/>',
}


def pictogram(name: str, size: int = 32, css_class: str = "picto") -> str:
    """The inline SVG of pictogram `name` (KeyError for an unknown name)."""
    drawing = _DRAWINGS[name]
    return (
        f'<svg class="{escape(css_class)}" width="{size}" height="{size}" viewBox="0 0 24 24" '
        'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" '
        f'stroke-linejoin="round" aria-hidden="true" focusable="false">{drawing}</svg>'
    )
