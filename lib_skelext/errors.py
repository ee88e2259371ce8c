"""The exception types users of skelext see: ``SkelextError`` and its two kinds of model failure."""
from __future__ import annotations


class SkelextError(ValueError):
    """Bad input or a missing resource, with a message that says what to do.

    The CLI prints it as one line and exits ``exit_code`` (2); the REST API turns it into an
    HTTP 4xx; the UI shows it as a warning; a ComfyUI node shows it on the node. Anything else
    is a bug.
    """

    exit_code = 2


class ModelError(SkelextError):
    """The completion model could not be loaded (file missing, unreadable, foreign) or run."""


class CompletionFailed(SkelextError):
    """``on_failure="raise"``: the completion model failed on this input (the cause is chained).

    The CLI exits 3 with this one line; with ``on_failure="fallback"`` (the hosts' generation paths)
    the core logs one warning instead and returns the poses as given, ``completion_failed=True``."""

    exit_code = 3
