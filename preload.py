"""Command-line flags the WebUI reads before it loads extensions (``shared.cmd_opts.wan_*``)."""


def preload(parser):
    parser.add_argument(
        "--wan-models-dir",
        type=str,
        default=None,
        help="folder of Wan models (default: the WAN_MODELS_DIR variable, then models/Wan)",
    )
    parser.add_argument(
        "--wan-output-dir",
        type=str,
        default=None,
        help="folder for Wan videos (default: <outputs>/wan-videos)",
    )
