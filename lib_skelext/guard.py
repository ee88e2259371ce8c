"""The completion guard: one failure policy for every surface (``core`` runs the completion in it).

A model failure (``MODEL_ERRORS``) is handled by ``on_failure``: "fallback" (the hosts' generation
paths: ControlNet's preprocessor, ComfyUI, REST) logs one WARNING line per failure and the caller
returns the poses as given, marked ``completion_failed``; "raise" (the CLI, the editor's
re-completion) raises ``CompletionFailed`` with one line. Bad input (other ``SkelextError``s) and
programming errors are never caught.
"""
from __future__ import annotations

import logging
from typing import Callable, Dict, Optional, Tuple, TypeVar

from .errors import CompletionFailed, ModelError, SkelextError

logger = logging.getLogger(__name__)

#: What the completion guard catches: the model file (``ModelError``) and what running a network
#: raises (onnxruntime/torch ``RuntimeError``, numpy's ``FloatingPointError``, ``MemoryError``).
#: Never bad input (other ``SkelextError``s) nor programming errors (TypeError, KeyError, ...).
MODEL_ERRORS: Tuple[type, ...] = (ModelError, RuntimeError, MemoryError, FloatingPointError)
#: ``RuntimeError`` subclasses that are programming errors, re-raised.
_NOT_MODEL_ERRORS: Tuple[type, ...] = (NotImplementedError, RecursionError)
ON_FAILURE = ("fallback", "raise")
T = TypeVar("T")


_FAILURES: Dict[str, int] = {}


def complete_guarded(run: Callable[[], T], on_failure: str = "fallback") -> Tuple[Optional[T], bool]:
    """(run(), False), or on a model failure (``MODEL_ERRORS``): "fallback" -> (None, True) with
    one WARNING line (the traceback the first time a message is seen, later ones count repeats;
    the WebUI console shows WARNING and up); "raise" -> ``CompletionFailed`` (one line)."""
    if on_failure not in ON_FAILURE:
        raise SkelextError(f"on_failure must be one of {', '.join(ON_FAILURE)}, got {on_failure!r}")
    try:
        return run(), False
    except _NOT_MODEL_ERRORS:
        raise
    except MODEL_ERRORS as exc:
        if isinstance(exc, SkelextError):
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        else:
            message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if on_failure == "raise":
            raise CompletionFailed(f"completion failed ({message})") from exc
        count = _FAILURES.get(message, 0) + 1
        _FAILURES[message] = count
        logger.warning("skelext: completion failed (%s)%s; using the pose as given", message,
                       f" [{count} times]" if count > 1 else "", exc_info=count == 1)
        return None, True
