"""One line per check (pass/fail and why) and a summary."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import IO, Iterable, List, Optional


@dataclass
class Check:
    name: str
    passed: bool
    detail: str = ""
    #: not run (e.g. a route this host lacks): neither pass nor fail
    skipped: bool = False

    def line(self) -> str:
        mark = "SKIP" if self.skipped else ("PASS" if self.passed else "FAIL")
        return f"{mark}  {self.name}" + (f": {self.detail}" if self.detail else "")


def print_report(checks: Iterable[Check], out: Optional[IO[str]] = None) -> int:
    """Print every check and a summary; -> 0 when none failed, else 1."""
    out = out or sys.stdout
    items: List[Check] = list(checks)
    for check in items:
        print(check.line(), file=out)
    failed = sum(1 for c in items if not c.passed and not c.skipped)
    skipped = sum(1 for c in items if c.skipped)
    passed = len(items) - failed - skipped
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""), file=out)
    return 0 if failed == 0 else 1
