"""``python -m wan``: see wan.cli."""

import sys

from wan.cli import main

if __name__ == "__main__":
    sys.exit(main())
