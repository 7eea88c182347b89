"""Who may see the display and press its buttons.

No token configured (a loopback-only kiosk): everyone on this machine. With a
token: a request carries it in a header (``Authorization: Bearer``), in the
cookie set the first time, or once in ``?token=``, which is swapped for the
cookie and dropped from the address bar.
"""

from __future__ import annotations

import hmac

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

COOKIE = "scangw_display"
OPEN_PATHS = frozenset({"/healthz"})
"""Answer without a token: says only that the server is up (the kiosk waits on it)."""


def token_middleware(token: str | None) -> Middleware:
    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if token is None or request.path in OPEN_PATHS:
            return await handler(request)
        given = request.query.get("token")
        if given is not None:
            if not _same(given, token):
                return _refused("the token in the address is wrong")
            if request.method != "GET":
                return await handler(request)
            query = {k: v for k, v in request.query.items() if k != "token"}
            response = web.Response(status=303, headers={
                "Location": str(request.rel_url.with_query(query))})
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/",
                                max_age=400 * 24 * 3600)
            return response
        header = request.headers.get("Authorization", "")
        candidates = [request.cookies.get(COOKIE, ""),
                      header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""]
        if any(c and _same(c, token) for c in candidates):
            return await handler(request)
        return _refused("this display needs its token")

    return check


@web.middleware
async def same_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Buttons post JSON from the page itself; another site's page cannot press them."""
    if request.method == "POST":
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"{request.scheme}://{request.host}":
            return web.json_response({"error": f"requests from {origin} are not accepted"},
                                     status=403)
        if request.content_type != "application/json":
            return web.json_response({"error": "send JSON (Content-Type: application/json)"},
                                     status=415)
    return await handler(request)


def _same(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def _refused(why: str) -> web.Response:
    return web.Response(
        status=401, content_type="text/plain", headers={"WWW-Authenticate": "Bearer"},
        text=f"401: {why}. Open the page once as /?token=<token> (the token is in the"
             " file or variable named by display.token_file / display.token_env), or send"
             " 'Authorization: Bearer <token>'.\n")
