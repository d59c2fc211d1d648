"""`python -m wan serve`: serve the HTTP API without a WebUI.

Listens on 127.0.0.1 by default. A non-loopback address exposes the render queue (and the
GPU) to the network, so it needs --api-auth, or --allow-remote to say it is meant. URLs in
requests are not downloaded unless --allow-url-inputs says so (`wan.api.url_inputs`: SSRF).
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import logging
import signal
import socket
from typing import Any

from wan.errors import WanError

DEFAULT_PORT = 7871
GRACE_SECONDS = 3  # how long open connections may finish once the server is asked to stop


def add_command(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser("serve", help="serve the HTTP API without a WebUI")
    command.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    command.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT}; 0 picks a free one)"
    )
    command.add_argument(
        "--api-auth",
        default=None,
        metavar="USER:PASS[,USER:PASS]",
        help="HTTP Basic credentials every /wan/v1 route asks for",
    )
    command.add_argument(
        "--allow-remote",
        action="store_true",
        help="listen on a non-loopback address without --api-auth (anyone there may render)",
    )
    command.add_argument(
        "--allow-url-inputs",
        action="store_true",
        help="download the http(s) init images and Parseq manifests requests name (off: a "
        "server that fetches URLs from requests can be made to reach its internal network)",
    )
    command.add_argument("--output-dir", default=None, help="output root (default ./outputs)")
    command.add_argument("--models-dir", default=None, help="models folder (or WAN_MODELS_DIR)")
    command.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from wan.api.routes import PREFIX, create_app, parse_api_auth
    from wan.host.standalone import StandaloneHost
    from wan.jobs import JobQueue

    auth = parse_api_auth(args.api_auth)
    check_exposure(args.host, bool(auth), args.allow_remote)
    listener = bind_socket(args.host, args.port)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    host = StandaloneHost(output_dir=args.output_dir, models_dir=args.models_dir)
    queue = JobQueue(host)
    try:
        base = server_url(args.host, listener.getsockname()[1])
        print(f"Wan API: {base}{PREFIX} (docs: {base}/docs); Ctrl+C stops", flush=True)
        app = create_app(queue, host, auth, allow_url_inputs=args.allow_url_inputs)
        serve(app, listener)
    finally:
        queue.close()
    return 0


def is_loopback(address: str) -> bool:
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(address: str, has_auth: bool, allow_remote: bool) -> None:
    """Refuse to open the queue to the network without credentials unless asked to."""
    if is_loopback(address) or has_auth or allow_remote:
        return
    raise WanError(
        f"--host {address} lets other machines use this API (and the GPU); add "
        "--api-auth USER:PASS, or --allow-remote if that is meant"
    )


def bind_socket(address: str, port: int) -> socket.socket:
    """The listening socket, bound before the server starts so a busy port is a clear error."""
    if not 0 <= port <= 65535:
        raise WanError(f"--port {port}: use a port from 1 to 65535 (0 picks a free one)")
    try:
        family, kind, proto, _, where = socket.getaddrinfo(
            address.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        listener = socket.socket(family, kind, proto)
    except (OSError, socket.gaierror) as exc:
        raise WanError(f"--host {address}: not an address to listen on ({exc})") from None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(where)
        listener.listen()  # connections wait in the backlog until the server accepts them
    except OSError as exc:
        listener.close()
        raise WanError(
            f"cannot listen on {address}:{port} ({exc.strerror or exc}); pick another --port"
        ) from None
    listener.set_inheritable(True)
    return listener


def server_url(address: str, port: int) -> str:
    shown = f"[{address.strip('[]')}]" if ":" in address else address
    return f"http://{shown}:{port}"


def serve(app: Any, listener: socket.socket, log_level: str = "info") -> None:
    """Run uvicorn on an already bound socket until Ctrl+C."""
    import uvicorn

    # Open pages (the tab's event streams) must not keep a stopping server alive for ever.
    config = uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=GRACE_SECONDS)
    server = uvicorn.Server(config)
    # uvicorn stops cleanly, then raises the signal again: SIGTERM then ends like Ctrl+C, so the
    # caller's `finally` closes the job queue (a running job is left resumable, not lost).
    previous = signal.signal(signal.SIGTERM, _as_keyboard_interrupt)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[listener])
    finally:
        signal.signal(signal.SIGTERM, previous)


def _as_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
