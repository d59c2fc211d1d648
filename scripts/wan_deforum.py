"""The WebUI's entry point for this extension: the only module that imports the host.

The engine (`wan/`) already reads Deforum settings and plans Wan clips, from the command line
(`python -m wan plan ...`). The WAN tab, its settings section and the `/wan/v1` HTTP routes are
registered here once they exist; until then this script only adds the package to the path so
that other extensions and the console can `import wan`.
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
