"""The one exception type users of skelext ever see."""
from __future__ import annotations


class SkelextError(ValueError):
    """Bad input or a missing resource, with a message that says what to do.

    The CLI prints it as one line and exits 2; the REST API turns it into an
    HTTP 4xx; the UI shows it as a warning. Anything else is a bug.
    """
