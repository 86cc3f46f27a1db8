"""A throwaway S3-compatible server for the tests: moto's server mode, a stand-in for the
real service (it keeps objects in its memory and checks no signature), on a free loopback
port in a process of its own, so that its memory is not the tests' and a test may stop it.
``KEEL_TEST_S3_URL`` points the tests at an existing server instead."""

# ruff: noqa: S603, S310
# (S603: it starts moto_server from this environment; S310: its URL is a loopback http one.)
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from harness.ports import free_port
from harness.processes import stop_process

# moto checks no signature: any key pair is accepted, and no real one is ever used.
ACCESS_KEY_ID = "keel-test-access-key"
SECRET_ACCESS_KEY = "keel-test-secret-key"  # noqa: S105 (a stand-in's fake credentials)
REGION = "us-east-1"


class S3Server:
    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None
        self._endpoint = os.environ.get("KEEL_TEST_S3_URL")
        self.port = 0

    @property
    def endpoint(self) -> str:
        return self._endpoint or f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self._endpoint:
            return
        self.port = free_port()
        binary = Path(sys.executable).with_name("moto_server")
        handle, log = tempfile.mkstemp(prefix="keel-moto-", suffix=".log")
        self._log = Path(log)
        self._process = subprocess.Popen(
            [str(binary), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        os.close(handle)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self._process.poll() is None:
            try:
                with urllib.request.urlopen(f"{self.endpoint}/", timeout=1):
                    return
            except urllib.error.HTTPError:
                return  # it answers, if only to say no
            except OSError:
                time.sleep(0.1)
        tail = self._log.read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"moto_server did not start:\n{tail}")

    def create_bucket(self, name: str) -> str:
        request = urllib.request.Request(f"{self.endpoint}/{name}", method="PUT")
        with urllib.request.urlopen(request, timeout=10):
            return name

    def environment(self) -> dict[str, str]:
        """What a `keel serve` needs to reach it: the fake credentials and a region."""
        return {
            "S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": REGION,
        }

    def stop(self) -> None:
        stop_process(self._process)
        self._process = None
        if self._log is not None:
            self._log.unlink(missing_ok=True)
            self._log = None
