"""Security headers on every response: HTML pages, JSON, files and error pages alike.

The Content-Security-Policy allows scripts, styles and images from this site only: no inline
<script>, no onclick= and no style= attributes (they are in static/js/app.js and
static/css/app.css), and the charts are SVG drawn with presentation attributes. A view that
sets its own, stricter policy keeps it (evidence downloads are sandboxed). Pages are not
cached: they show complainants' details, and the browser's back button or a shared computer
must not show them after signing out.
"""
from flask import Flask, request

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

# Nothing the app uses: camera, microphone, location, payments, USB… all off.
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone", "payment", "usb",
))

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}

HSTS = "max-age=31536000; includeSubDomains"


def add_security_headers(response, production: bool):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)  # a view's own (stricter) policy stays
    if production:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static" and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        return add_security_headers(response, production=bool(app.config.get("PRODUCTION")))
