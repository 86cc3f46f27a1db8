"""The hasher's memory, in a fresh interpreter as in a worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

MEMORY_SCRIPT = """
import asyncio
from adapters.argon2.hasher import Argon2PasswordHasher, prepare_process_for_hashing

def rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

async def main():
    prepare_process_for_hashing()
    hasher = Argon2PasswordHasher(time_cost=2, memory_cost_kib=19456, parallelism=1, max_threads=2)
    hashed = await hasher.hash("correct horse battery")
    before = rss_mib()
    checks = [hasher.verify(hashed, "correct horse battery") for _ in range(8)]
    results = await asyncio.gather(*checks)
    assert all(results)
    print(rss_mib() - before)
    hasher.close()

asyncio.run(main())
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_hashing_gives_its_memory_back() -> None:
    # Real parameters: every hash takes 19 MiB. Without giving it back, each hashing thread
    # would keep one such block for good. In a fresh interpreter, as in a worker, whose
    # start-up step runs before any other thread starts.
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    grown = float(result.stdout)
    assert grown < 10, f"{grown:.1f} MiB kept after hashing"
