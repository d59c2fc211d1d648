"""Command-line flags the WebUI reads before it loads extensions (``shared.cmd_opts.wan_*``)."""


def preload(parser):
    parser.add_argument(
        "--wan-models-dir",
        type=str,
        default=None,
        help="folder of Wan models (default: WAN_MODELS_DIR, the Wan Video setting, then "
        "models/Wan in the WebUI folder)",
    )
    parser.add_argument(
        "--wan-output-dir",
        type=str,
        default=None,
        help="folder under which Wan videos go, in wan-videos/ (default: the Wan Video setting, "
        "then the WebUI's output folder)",
    )
    parser.add_argument(
        "--wan-data-dir",
        type=str,
        default=None,
        help="folder of the Wan job queue, its inputs and the GPU lock file, shared with "
        "`python -m wan` run with WAN_DATA_DIR set to it (default: data/ in the extension)",
    )
    parser.add_argument(
        "--wan-allow-url-inputs",
        action="store_true",
        help="let the Wan API download the http(s) init images and Parseq manifests requests "
        "name (off by default: a server that fetches URLs from requests can be made to reach "
        "its internal network; the tab and `python -m wan` always download them)",
    )
