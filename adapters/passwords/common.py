"""Common passwords, from the 30,000 most frequent leaked passwords that zxcvbn ships
(`zxcvbn.frequency_lists`, package zxcvbn on PyPI, MIT licence)."""

from __future__ import annotations

import ast
import bisect
import hashlib
import importlib.util
from array import array
from functools import cached_property
from pathlib import Path


class ZxcvbnCommonPasswords:
    """Loaded on first use; compared without regard to case or surrounding spaces.

    Kept as the sorted 64-bit BLAKE2b digests of the casefolded words (240 KB) rather than
    the words themselves (some 4 MB more per worker): a false match needs a 64-bit collision
    with one of 30,000 words, a chance of about one in 6 * 10^14 per password."""

    @cached_property
    def _digests(self) -> array[int]:
        return array("Q", sorted({_digest(word.casefold()) for word in _zxcvbn_passwords()}))

    def __len__(self) -> int:
        return len(self._digests)

    def contains(self, password: str) -> bool:
        digests = self._digests
        wanted = _digest(password.strip().casefold())
        at = bisect.bisect_left(digests, wanted)
        return at < len(digests) and digests[at] == wanted


def _digest(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")


def _zxcvbn_passwords() -> list[str]:
    """The ``passwords`` list of zxcvbn's ``FREQUENCY_LISTS``, read from its module file
    without importing the package: importing ``zxcvbn`` builds ranked dictionaries of all
    six lists (some 18 MB that would stay for the life of the process). The file writes each
    list as one line, ``"name": "word,word,...".split(","),``."""
    package = importlib.util.find_spec("zxcvbn")
    if package is None or not package.submodule_search_locations:
        raise RuntimeError("the zxcvbn package is not installed")
    path = Path(next(iter(package.submodule_search_locations))) / "frequency_lists.py"
    with path.open(encoding="utf-8") as source:
        for line in source:
            name, _, rest = line.strip().partition(":")
            if name == '"passwords"':
                literal = rest.strip().removesuffix(",").removesuffix('.split(",")')
                words: list[str] = ast.literal_eval(literal).split(",")
                return words
    raise RuntimeError(f"no passwords list in {path}")
