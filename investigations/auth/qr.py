"""The QR code of the two-factor set-up page, drawn by segno as inline SVG on the server (nothing
fetched by the browser). segno's SVG uses presentation attributes only, so the Content-Security-Policy
allows it; role and label make it an image to screen readers."""
import segno
from markupsafe import Markup, escape


def qr_code(text: str) -> segno.QRCode:
    return segno.make(text, error="m", boost_error=False)


def qr_svg(text: str, label: str = "QR code for an authenticator app") -> Markup:
    svg = qr_code(text).svg_inline(scale=4, border=4, dark="#000", light="#fff", svgclass=None, lineclass=None)
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))
