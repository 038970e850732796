"""JSON answers for requests gunicorn refuses before they reach Flask (a malformed request line, headers too large).

Gunicorn writes those answers with `gunicorn.util.write_error`, as an HTML page; `install()` (called from
gunicorn.conf.py, in the master before workers fork) makes them the service's one error shape instead.
"""

from __future__ import annotations

import json
import socket

from gunicorn import util

from api.errors import CODE_FOR_STATUS

_CODES = {**CODE_FOR_STATUS, 414: "uri_too_long", 417: "expectation_failed", 431: "headers_too_large"}


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """Write an error answer as JSON `{error, message}` and close the exchange, as gunicorn's own writer does."""
    code = _CODES.get(status_int, "malformed" if 400 <= status_int < 500 else "internal")
    message = f"{reason}: {mesg}" if mesg else f"{reason}."
    body = json.dumps({"error": code, "message": message}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def install() -> None:
    """Send gunicorn's own error answers as JSON (it looks the writer up on its util module at each error)."""
    util.write_error = write_json_error
