"""``python -m wan``: see wan.cli.main."""

import sys

from wan.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
