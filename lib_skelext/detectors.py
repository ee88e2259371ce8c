"""One detector interface and one process-wide registry.

A detector is anything with ``load()``, ``detect_people(image, threshold) -> PoseFrame``
and ``unload()`` (``Detector``). ``get_detector(name, weights_dir, search_dirs, device)``
returns the one instance for that key, built and loaded once even when several threads
(UI, REST, generation) ask at the same time; ``unload_all()`` frees every model (the
WebUI calls it from ControlNet's unload hook). ``register_factory`` adds a detector
name (tests and embedders); the built-in names are ``settings.DETECTORS``.

Locking: each key has its own lock, held while that key's detector is built and loaded (a first
DWPose download can take minutes), so it blocks only callers of the same key; ``_LOCK`` guards the
dicts and is never held across a build, a load or an unload. ``unload_all`` does not wait for a
load in progress: that load's caller gets its detector, which is no longer registered.
"""
from __future__ import annotations

import logging
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from .errors import SkelextError

try:  # typing.Protocol is 3.8+
    from typing import Protocol, runtime_checkable
except ImportError:  # pragma: no cover
    Protocol = object  # type: ignore

    def runtime_checkable(cls):  # type: ignore
        return cls

logger = logging.getLogger(__name__)


@runtime_checkable
class Detector(Protocol):
    """What the core needs from a detector."""

    def load(self) -> Any: ...

    def detect_people(self, image: Any, threshold: float = ...) -> Any: ...

    def unload(self) -> None: ...


@dataclass(frozen=True)
class DetectorLocation:
    """Where a detector's weights are and where it runs: the registry key besides the name.

    weights_dir: the user's folder (downloads go there); search_dirs: folders that may hold
    the files (a host's ControlNet folders), best first; device: auto | cpu | cuda.
    """

    weights_dir: str = ""
    search_dirs: Tuple[str, ...] = ()
    device: str = "auto"


#: (name, weights folder, search folders, device)
RegistryKey = Tuple[str, str, Tuple[str, ...], str]
Factory = Callable[..., Any]


def _dwpose(weights_dir: Optional[str], search_dirs: Optional[Sequence[Path]], device: str) -> Any:
    from .dwpose.detector import DWPoseDetector

    return DWPoseDetector(weights_dir=weights_dir or None, search_dirs=list(search_dirs) if search_dirs else None,
                          device=device)


def _blazepose(weights_dir: Optional[str], search_dirs: Optional[Sequence[Path]], device: str) -> Any:
    from .blazepose import BlazePoseDetector

    return BlazePoseDetector()


_FACTORIES: Dict[str, Factory] = {"dwpose": _dwpose, "blazepose": _blazepose}
_INSTANCES: Dict[RegistryKey, Any] = {}
_LOADED: Dict[RegistryKey, bool] = {}
#: One per key ever asked for (a few), kept after unload so one key never has two locks.
_KEY_LOCKS: Dict[RegistryKey, threading.Lock] = {}
_LOCK = threading.RLock()  # guards the dicts only, briefly


def detector_names() -> Tuple[str, ...]:
    return tuple(_FACTORIES)


def register_factory(name: str, factory: Optional[Factory]) -> Optional[Factory]:
    """Add, replace (or with None remove) a detector: ``factory(weights_dir, search_dirs, device) ->
    Detector``. Instances already built under that name are dropped; -> the previous factory."""
    with _LOCK:
        previous = _FACTORIES.pop(name, None)
        if factory is not None:
            _FACTORIES[name] = factory
        dropped = _forget([k for k in _INSTANCES if k[0] == name])
    _unload(dropped)
    return previous


def _key(name: str, weights_dir: Any, search_dirs: Optional[Sequence[Any]], device: str) -> RegistryKey:
    return (name, os.fspath(weights_dir) if weights_dir else "",
            tuple(os.fspath(d) for d in search_dirs) if search_dirs else (), device or "auto")


def get_detector(name: str, location: Optional[DetectorLocation] = None, *, weights_dir: Any = None,
                 search_dirs: Optional[Sequence[Any]] = None, device: str = "auto", load: bool = True) -> Any:
    """The process-wide detector for this key, loaded once (``load=False``: build only).

    The key is the name and either ``location`` or (weights_dir, search_dirs, device).

    Raises SkelextError for an unknown name, and the detector's own SkelextError
    (missing weights, missing mediapipe) when loading fails; a failed load is tried
    again on the next call.
    """
    if name not in _FACTORIES:
        raise SkelextError(f"unknown detector {name!r}; choose one of {', '.join(sorted(_FACTORIES))}")
    if location is not None:
        weights_dir, search_dirs, device = location.weights_dir, location.search_dirs, location.device
    key = _key(name, weights_dir, search_dirs, device)
    with _LOCK:
        detector = _INSTANCES.get(key)
        if detector is not None and (not load or _LOADED.get(key)):
            return detector
        key_lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    with key_lock:  # only this key's callers wait while it builds, loads or downloads
        with _LOCK:
            detector, factory = _INSTANCES.get(key), _FACTORIES.get(name)
        if detector is None:
            if factory is None:  # removed by register_factory meanwhile
                raise SkelextError(f"unknown detector {name!r}; choose one of {', '.join(sorted(_FACTORIES))}")
            built = factory(key[1] or None, [Path(d) for d in key[2]] or None, key[3])
            with _LOCK:
                detector = _INSTANCES.setdefault(key, built)
        if load and not _loaded(key, detector):
            loader = getattr(detector, "load", None)
            if loader is not None:
                loader()
            with _LOCK:
                if _INSTANCES.get(key) is detector:  # not dropped by unload_all meanwhile
                    _LOADED[key] = True
    return detector


def _loaded(key: RegistryKey, detector: Any) -> bool:
    with _LOCK:
        return bool(_LOADED.get(key)) and _INSTANCES.get(key) is detector


def is_loaded(detector: Any) -> bool:
    with _LOCK:
        return any(_LOADED.get(k) for k, d in _INSTANCES.items() if d is detector)


def _forget(keys: Sequence[RegistryKey]) -> List[Tuple[RegistryKey, Any]]:
    """Remove ``keys`` from the registry (the caller holds ``_LOCK``); -> [(key, detector)] to unload."""
    dropped = [(key, _INSTANCES.pop(key, None)) for key in keys]
    for key in keys:
        _LOADED.pop(key, None)
    return dropped


def _unload(dropped: Sequence[Tuple[RegistryKey, Any]]) -> None:
    """Free forgotten detectors, outside ``_LOCK``: an unload may wait for a running detection."""
    for key, detector in dropped:
        unload = getattr(detector, "unload", None) or getattr(detector, "close", None)
        if unload is not None:
            try:
                unload()
            except Exception:  # freeing must never fail the caller
                logger.debug("unloading %s failed", key[0], exc_info=True)


def unload_all(name: Optional[str] = None) -> int:
    """Unload and forget every registered detector (or those named ``name``); -> how many."""
    with _LOCK:
        dropped = _forget([k for k in _INSTANCES if name is None or k[0] == name])
    _unload(dropped)
    if dropped:
        logger.info("skelext: unloaded %d detector(s)", len(dropped))
    return len(dropped)


def loaded_keys() -> Tuple[RegistryKey, ...]:
    with _LOCK:
        return tuple(k for k in _INSTANCES if _LOADED.get(k))


@contextmanager
def video_detector(detector: Any) -> Iterator[Any]:
    """The detector to run over one clip's frames, in order: a detector with a tracking mode
    (``video_session()``: BlazePose) gives a fresh tracking instance for this clip, closed after it;
    others (DWPose) are used as they are."""
    session = getattr(detector, "video_session", None)
    if session is None:
        yield detector
        return
    tracking = session()
    try:
        yield tracking
    finally:
        close = getattr(tracking, "close", None) or getattr(tracking, "unload", None)
        if close is not None:
            close()
