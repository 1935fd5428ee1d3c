"""WhatsApp's click-to-chat links and their QR codes (pure).

`https://wa.me/<number>?text=<text>` opens a chat with `number` (international digits, no + nor
00) with `text` already typed: the person only presses send. The QR code is an SVG made by
`segno`, inline in the page (no JavaScript, no image request).
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

import segno

SIGNUP_WORD = "INSCRIPTION"
UNSUBSCRIBE_WORD = "DESINSCRIPTION"


def wa_me_url(number: str, text: str = "") -> str:
    """The click-to-chat link to `number` with `text` prefilled."""
    digits = "".join(ch for ch in number if ch.isdigit())
    url = f"https://wa.me/{digits}"
    return f"{url}?text={quote(text, safe='')}" if text else url


def qr_svg(url: str, *, title: str, scale: int = 4, css_class: str = "qr") -> str:
    """An inline SVG QR code of `url` (a full QR code, never a Micro QR, which many phone
    scanners cannot read), sized by its viewBox so that the page's style sets its width."""
    code = segno.make_qr(url, error="m")
    svg = code.svg_inline(
        scale=scale, omitsize=True, svgclass=css_class, title=title, light="#fff"
    )
    return svg.replace("<svg ", '<svg role="img" ', 1)


def display_number(number: str) -> str:
    """`+33 4 66 00 00 00` for French digits, `+<digits>` otherwise (what people dial)."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if digits.startswith("33") and len(digits) == 11:
        rest = digits[2:]
        return "+33\u00a0" + rest[0] + "".join(f"\u00a0{rest[i:i + 2]}" for i in range(1, 9, 2))
    return "+" + digits


def link_block(number: str, text: str, *, label: str, title: str) -> str:
    """An HTML block: the button-like link and its QR code (`text` prefilled)."""
    url = wa_me_url(number, text)
    return (
        '<div class="whatsapp-lien">\n'
        f'<p><a class="bouton" href="{escape(url)}">{escape(label, quote=False)}</a></p>\n'
        f'<figure class="qr">{qr_svg(url, title=title)}'
        f"<figcaption>{escape(title, quote=False)}</figcaption></figure>\n"
        "</div>"
    )
