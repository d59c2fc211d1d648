"""The worker process the restart test kills mid-render: it opens the queue and serves it.

Usage: python -m tests.jobs.restart_child DB OUTPUT_DIR
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from wan.host.standalone import StandaloneHost
from wan.jobs import JobQueue


def main(db: str, output_dir: str) -> None:
    JobQueue(StandaloneHost(output_dir=output_dir), db_path=Path(db))
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main(*sys.argv[1:3])
