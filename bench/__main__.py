"""``python -m bench``: one whole run (see the package's docstring and bench/README.md)."""

from __future__ import annotations

import os
import shutil
import signal
import sys
from typing import Any

from bench.runner import Bench
from bench.settings import BenchError, Config


def main() -> int:
    if not shutil.which("wrk"):
        print("error: wrk not found: run bench/ensure-wrk.sh (or `make bench`)", file=sys.stderr)
        return 1
    try:
        config = Config.from_env()
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    bench = Bench(config)

    def terminate(_signum: int, _frame: Any) -> None:
        # Handled as a Ctrl-C: asyncio.run then cancels its task cleanly, like the rest.
        os.kill(os.getpid(), signal.SIGINT)

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    try:
        return bench.run()
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: stopping everything", file=sys.stderr)
        return 130
    finally:
        # A second Ctrl-C must not leave servers behind: cleaning up is bounded anyway.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        bench.cleanup()


if __name__ == "__main__":
    sys.exit(main())
