"""Per-request security: where a request comes from, idle sign-out, security headers."""
from __future__ import annotations

from flask import Flask, abort, g, request, session
from flask_login import current_user

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


def register(app: Flask) -> None:
    from .access_audit import register as register_access_audit
    register_access_audit(app)  # every request on a patient's record leaves an audit event

    @app.before_request
    def refuse_nul_bytes():
        """No database stores a NUL character in text: refuse it up front with a 400."""
        values = [*request.args.values(), *request.form.values()]
        if any("\x00" in value for value in values) or (
                request.is_json and b"\\u0000" in request.get_data(cache=True)):
            abort(400)

    @app.before_request
    def remember_origin():
        g.origin = (request.remote_addr or "")[:64]
        # A permanent session expires after PERMANENT_SESSION_LIFETIME without a request:
        # the signed cookie carries its time, and Flask refuses an older one (idle sign-out).
        session.permanent = True

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers.setdefault("Referrer-Policy", "same-origin")
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if not request.path.startswith("/static/") and (
                current_user.is_authenticated or request.path.startswith(("/api/", "/p/"))):
            # Patient data must never sit in a browser or proxy cache.
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response
