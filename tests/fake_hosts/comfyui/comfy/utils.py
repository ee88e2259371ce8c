"""Fake ``comfy.utils`` with ComfyUI's ``ProgressBar`` interface, as in ComfyUI v0.3.64
(``comfy/utils.py``: ``ProgressBar(total, node_id=None)`` with ``update(value)`` adding to
``current`` and ``update_absolute(value, total=None, preview=None)`` clamping to ``total``
and calling the global ``PROGRESS_BAR_HOOK(current, total, preview, node_id=...)``).

Every bar made is recorded in ``BARS`` so tests can read what a node reported.
"""
from __future__ import annotations

from typing import Any, Callable, List, Optional

PROGRESS_BAR_HOOK: Optional[Callable[..., Any]] = None
BARS: List["ProgressBar"] = []


def set_progress_bar_global_hook(function: Optional[Callable[..., Any]]) -> None:
    global PROGRESS_BAR_HOOK
    PROGRESS_BAR_HOOK = function


class ProgressBar:
    def __init__(self, total: int, node_id: Any = None) -> None:
        self.total = total
        self.current = 0
        self.hook = PROGRESS_BAR_HOOK
        self.node_id = node_id
        self.updates: List[int] = []
        BARS.append(self)

    def update_absolute(self, value: int, total: Optional[int] = None, preview: Any = None) -> None:
        if total is not None:
            self.total = total
        if value > self.total:
            value = self.total
        self.current = value
        self.updates.append(value)
        if self.hook is not None:
            self.hook(self.current, self.total, preview, node_id=self.node_id)

    def update(self, value: int) -> None:
        self.update_absolute(self.current + value)
