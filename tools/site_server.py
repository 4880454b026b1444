#!/usr/bin/env python3
"""Serve the booking site (`site/`) on its own origin, as a clinic's web server would.

The site is static files; the one thing written per deployment is `/config.js`, which tells
the pages where the API is. This server generates it from `--api` instead of serving the
file in `site/`, so that `make run` and the browser tests need no edited copy.

    python tools/site_server.py --port 8001 --api http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import functools
import json
import threading
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SITE = Path(__file__).resolve().parent.parent / "site"


class SiteHandler(SimpleHTTPRequestHandler):
    api_origin = ""

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/config.js":
            body = f"window.CLINIC_API = {json.dumps(self.api_origin)};\n".encode()
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/javascript; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def end_headers(self) -> None:
        # Development: every reload shows the files as they are now. The policy is the one
        # README recommends for production: scripts from the site only, API calls to the API.
        self.send_header("Cache-Control", "no-cache")
        self.send_header(
            "Content-Security-Policy",
            f"default-src 'self'; connect-src 'self' {self.api_origin}; "
            "img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; frame-ancestors *",
        )
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()


def make_server(host: str, port: int, api_origin: str) -> ThreadingHTTPServer:
    """A server for site/ on host:port (port 0: any free one) whose pages call api_origin."""
    handler = type("Handler", (SiteHandler,), {"api_origin": api_origin.rstrip("/")})
    return ThreadingHTTPServer((host, port), functools.partial(handler, directory=str(SITE)))


def serve_in_thread(host: str, port: int, api_origin: str) -> ThreadingHTTPServer:
    """Start serving in a daemon thread; the caller stops it with `.shutdown()`."""
    server = make_server(host, port, api_origin)
    threading.Thread(target=server.serve_forever, name="site-server", daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--api", required=True, help="the API's origin, e.g. http://127.0.0.1:8000")
    args = parser.parse_args()
    server = make_server(args.host, args.port, args.api)
    print(f"booking site on http://{args.host}:{args.port}/ (API: {args.api})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
