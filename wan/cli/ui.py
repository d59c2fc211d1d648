"""`python -m wan ui`: the WAN tab and the API without a WebUI.

Listens on 127.0.0.1 by default; the tab has no password, so another address needs
--allow-remote (--api-auth protects the /wan/v1 routes only).
"""

from __future__ import annotations

import argparse
import logging

from wan.errors import WanError

DEFAULT_PORT = 7870


def add_command(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser(
        "ui", help="open the WAN tab and the API in a browser, without a WebUI"
    )
    command.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    command.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT}; 0 picks a free one)"
    )
    command.add_argument("--output-dir", default=None, help="output root (default ./outputs)")
    command.add_argument("--models-dir", default=None, help="models folder (or WAN_MODELS_DIR)")
    command.add_argument(
        "--api-auth",
        default=None,
        metavar="USER:PASS[,USER:PASS]",
        help="HTTP Basic credentials the /wan/v1 routes ask for (the tab itself has none)",
    )
    command.add_argument(
        "--allow-remote",
        action="store_true",
        help="listen on a non-loopback address (anyone there may use the tab and render)",
    )
    command.set_defaults(run=run_ui)


def run_ui(args: argparse.Namespace) -> int:
    from wan.api.routes import parse_api_auth
    from wan.cli.serve import bind_socket, is_loopback, serve, server_url
    from wan.host.standalone import StandaloneHost
    from wan.jobs import JobQueue
    from wan.ui.app import create_ui_app

    if not is_loopback(args.host) and not args.allow_remote:
        raise WanError(
            f"--host {args.host} lets other machines use the tab (and the GPU) without a "
            "password; add --allow-remote if that is meant"
        )
    auth = parse_api_auth(args.api_auth)
    listener = bind_socket(args.host, args.port)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    host = StandaloneHost(output_dir=args.output_dir, models_dir=args.models_dir)
    queue = JobQueue(host)
    try:
        app = create_ui_app(queue, host, auth)
        base = server_url(args.host, listener.getsockname()[1])
        print(f"WAN tab: {base}/ (API: {base}/wan/v1); Ctrl+C stops", flush=True)
        serve(app, listener, log_level="warning")
    finally:
        queue.close()
    return 0
