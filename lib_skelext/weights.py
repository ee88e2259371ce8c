"""Find, download and verify model files (DWPose's two ONNX files).

Lookup order (first folder holding the file wins), from ``dwpose_search_dirs``:

1. an explicit folder (setting, ``--weights-dir``), then env ``SKELEXT_DWPOSE_DIR``;
2. ControlNet's annotator folder ``<annotator models path>/openpose``, where
   the annotator path is the WebUI option ``control_net_modules_path``, else
   the flag ``--controlnet-annotator-models-path``, else
   ``extensions/sd-webui-controlnet/annotator/downloads`` (older ControlNet)
   or the WebUI models root (newer ControlNet);
3. Forge's ``models/ControlNetPreprocessor/openpose``;
4. skelext's own cache: ``<models>/skelext/dwpose`` inside a WebUI, and
   ``$XDG_CACHE_HOME/skelext/dwpose`` (``~/.cache/skelext/dwpose``).

A missing file is downloaded from the Hugging Face repo ``yzd-v/DWPose`` into
the explicit folder if one was given, else into skelext's cache, through a
temporary file in the same folder that is renamed into place only after its
sha256 matched. ``SKELEXT_OFFLINE=1`` (or ``allow_download=False``) turns
downloads off; a missing file then raises one ``SkelextError`` line that
names the file, the folders searched and where to put it.

Over 300 lines on purpose: finding, downloading and verifying the same files share their
table (names, sizes, sha256), the folders and the record of verified files.

A file found on disk is checked once against the published sha256 (its size first,
when known), and the result is remembered by path, size and mtime, in memory and in
``<skelext cache>/verified-sha256.json`` (best effort), so a 217 MB file is hashed
once, not at every start. A truncated or foreign file raises one ``SkelextError``
line naming the file, both hashes and what to do, instead of an onnxruntime error
later. ``SKELEXT_SKIP_SHA256=1`` accepts any local file (re-exported or converted
DWPose files, test stand-ins).
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence

from .atomic import default_file_mode
from .errors import SkelextError

logger = logging.getLogger(__name__)

ENV_DWPOSE_DIR = "SKELEXT_DWPOSE_DIR"
ENV_OFFLINE = "SKELEXT_OFFLINE"
ENV_SKIP_SHA256 = "SKELEXT_SKIP_SHA256"
VERIFIED_FILE = "verified-sha256.json"
DWPOSE_URL = "https://huggingface.co/yzd-v/DWPose/resolve/main/{name}"
DOWNLOAD_TIMEOUT_S = 30.0
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class WeightFile:
    """One model file: its name, expected sha256 and download address."""

    name: str
    sha256: str
    url: str
    #: bytes, when published: a file of another size fails without being hashed
    size: Optional[int] = None


DWPOSE_DETECTOR = WeightFile(
    "yolox_l.onnx",
    "7860ae79de6c89a3c1eb72ae9a2756c0ccfbe04b7791bb5880afabd97855a411",
    DWPOSE_URL.format(name="yolox_l.onnx"),
)
DWPOSE_POSE = WeightFile(
    "dw-ll_ucoco_384.onnx",
    "724f4ff2439ed61afb86fb8a1951ec39c6220682803b4a8bd4f598cd913b1843",
    DWPOSE_URL.format(name="dw-ll_ucoco_384.onnx"),
    134_399_116,
)
DWPOSE_FILES = (DWPOSE_DETECTOR, DWPOSE_POSE)


def _truthy(value: Optional[str]) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def offline(env: Optional[Mapping[str, str]] = None) -> bool:
    """True when ``SKELEXT_OFFLINE`` asks for no downloads."""
    return _truthy((os.environ if env is None else env).get(ENV_OFFLINE))


def user_cache_dir(env: Optional[Mapping[str, str]] = None) -> Path:
    """``$XDG_CACHE_HOME/skelext/dwpose``, default ``~/.cache/skelext/dwpose``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "skelext" / "dwpose"


def _absolute(path: "str | os.PathLike[str]", data_path: Optional["str | os.PathLike[str]"]) -> Path:
    p = Path(os.path.expanduser(os.fspath(path)))
    if not p.is_absolute() and data_path:
        p = Path(data_path) / p
    return p


def dwpose_search_dirs(
    *,
    explicit_dir: Optional["str | os.PathLike[str]"] = None,
    control_net_modules_path: Optional[str] = None,
    controlnet_annotator_models_path: Optional[str] = None,
    webui_root: Optional["str | os.PathLike[str]"] = None,
    models_path: Optional["str | os.PathLike[str]"] = None,
    data_path: Optional["str | os.PathLike[str]"] = None,
    controlnet_dir: Optional["str | os.PathLike[str]"] = None,
    env: Optional[Mapping[str, str]] = None,
) -> List[Path]:
    """Folders that may hold DWPose's files, best first, without duplicates.

    Pure: reads nothing but its arguments (``env`` defaults to ``os.environ``)
    and touches no file. Host glue passes the WebUI's values:
    ``shared.opts.data.get("control_net_modules_path")``,
    ``getattr(shared.cmd_opts, "controlnet_annotator_models_path", None)``,
    ``modules.paths.script_path`` (webui_root), ``modules.paths.models_path``,
    ``modules.paths.data_path`` (relative option paths are resolved against it,
    as ControlNet does) and, when ControlNet lives in a folder with another
    name, ``controlnet_dir``.
    """
    env = os.environ if env is None else env
    dirs: List[Path] = []
    if explicit_dir:
        dirs.append(_absolute(explicit_dir, None))
    if env.get(ENV_DWPOSE_DIR):
        dirs.append(_absolute(env[ENV_DWPOSE_DIR], None))
    if control_net_modules_path:
        dirs.append(_absolute(control_net_modules_path, data_path) / "openpose")
    if controlnet_annotator_models_path:
        dirs.append(_absolute(controlnet_annotator_models_path, data_path) / "openpose")
    if controlnet_dir:
        dirs.append(Path(controlnet_dir) / "annotator" / "downloads" / "openpose")
    if webui_root:
        dirs.append(Path(webui_root) / "extensions" / "sd-webui-controlnet" / "annotator" / "downloads" / "openpose")
    if models_path is None and webui_root:
        models_path = Path(webui_root) / "models"
    if models_path:
        models = Path(models_path)
        dirs.append(models / "openpose")                              # newer ControlNet default
        dirs.append(models / "ControlNetPreprocessor" / "openpose")   # Forge
        dirs.append(models / "skelext" / "dwpose")                    # skelext, inside a WebUI
    dirs.append(user_cache_dir(env))
    unique: List[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def download_dir(search_dirs: Sequence[Path], explicit_dir: Optional["str | os.PathLike[str]"] = None,
                 env: Optional[Mapping[str, str]] = None) -> Path:
    """Where a missing file is downloaded: the explicit folder (argument, then
    ``SKELEXT_DWPOSE_DIR``), else skelext's own cache (the last search folders)."""
    env = os.environ if env is None else env
    if explicit_dir:
        return _absolute(explicit_dir, None)
    if env.get(ENV_DWPOSE_DIR):
        return _absolute(env[ENV_DWPOSE_DIR], None)
    own = [d for d in search_dirs if d.parts[-2:] == ("skelext", "dwpose")]
    return own[0] if own else user_cache_dir(env)


def find_file(name: str, dirs: Iterable[Path]) -> Optional[Path]:
    """First ``dir/name`` that is a non-empty file, or None."""
    for d in dirs:
        p = Path(d) / name
        try:
            if p.is_file() and p.stat().st_size > 0:
                return p
        except OSError:
            continue
    return None


def sha256_of(path: "str | os.PathLike[str]") -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_BYTES), b""):
            h.update(chunk)
    return h.hexdigest()


def _progress_bar(total: Optional[int], name: str, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is optional
        return None
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=name, leave=False)


def download_file(url: str, dest: "str | os.PathLike[str]", sha256: Optional[str], *,
                  timeout: float = DOWNLOAD_TIMEOUT_S, progress: bool = True,
                  urlopen: Optional[Callable] = None) -> Path:
    """Download ``url`` to ``dest`` atomically, checking ``sha256`` (if given).

    The bytes go to a temporary file in ``dest``'s folder, renamed onto
    ``dest`` (``os.replace``) only when complete and matching; on any failure
    the temporary file is removed and ``dest`` is left untouched. Network
    errors and mismatches raise ``SkelextError``.
    """
    import urllib.error
    import urllib.request

    dest = Path(dest)
    opener = urlopen or urllib.request.urlopen
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SkelextError(f"cannot create {dest.parent} for {dest.name}: {exc.strerror or exc}") from exc
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    bar = None
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "skelext"})
        try:
            response = opener(request, timeout=timeout)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise SkelextError(f"could not download {dest.name} from {url} ({reason}); "
                               f"put the file in {dest.parent} by hand") from exc
        h = hashlib.sha256()
        with response, os.fdopen(fd, "wb") as out:
            fd = -1
            length = response.headers.get("Content-Length") if getattr(response, "headers", None) else None
            total = int(length) if length and str(length).isdigit() else None
            bar = _progress_bar(total, dest.name, progress)
            while True:
                try:
                    chunk = response.read(CHUNK_BYTES)
                except OSError as exc:
                    raise SkelextError(f"download of {dest.name} from {url} broke off ({exc}); "
                                       f"try again or put the file in {dest.parent} by hand") from exc
                if not chunk:
                    break
                out.write(chunk)
                h.update(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, default_file_mode())
        digest = h.hexdigest()
        if sha256 and digest != sha256.lower():
            raise SkelextError(f"downloaded {dest.name} has sha256 {digest}, expected {sha256}; "
                               f"the file was discarded, download it from {url} into {dest.parent}")
        os.replace(tmp, dest)
        logger.info("downloaded %s to %s", url, dest)
        return dest
    finally:
        if bar is not None:
            bar.close()
        if fd >= 0:
            os.close(fd)
        if tmp.exists():
            tmp.unlink()


_VERIFIED: Dict[tuple, str] = {}
_VERIFIED_LOCK = threading.Lock()


def _verified_record(env: Optional[Mapping[str, str]]) -> Path:
    return user_cache_dir(env).parent / VERIFIED_FILE


def _stat_key(path: Path) -> tuple:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def _load_record(record: Path) -> Dict[str, str]:
    import json

    try:
        data = json.loads(record.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _remember(record: Path, key: tuple, digest: str) -> None:
    """Add one verified file to the record (atomic rewrite; failures only logged)."""
    import json

    try:
        data = _load_record(record)
        data["|".join(map(str, key))] = digest
        record.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{record.name}.", dir=record.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=0, sort_keys=True)
        os.replace(tmp, record)
    except OSError as exc:
        logger.debug("could not record the verified sha256 in %s: %s", record, exc)


def verify_local_file(weight: WeightFile, path: "str | os.PathLike[str]", *,
                      env: Optional[Mapping[str, str]] = None) -> Path:
    """Check a file found on disk against ``weight``'s sha256 (size first, when known).

    Hashed once per (path, size, mtime): remembered in memory and in the skelext cache's
    ``verified-sha256.json``. Raises SkelextError (one line) on a mismatch;
    ``SKELEXT_SKIP_SHA256=1`` skips the check.
    """
    path = Path(path)
    env = os.environ if env is None else env
    if _truthy(env.get(ENV_SKIP_SHA256)):
        return path
    key = _stat_key(path)
    size = key[1]
    what = (f"DWPose file {path} is not the official {weight.name}")
    fix = (f"it may be truncated or another model: delete it and download {weight.url} into {path.parent} "
           f"(or set {ENV_SKIP_SHA256}=1 to use it anyway)")
    if weight.size is not None and size != weight.size:
        raise SkelextError(f"{what} ({size} bytes, expected {weight.size}); {fix}")
    with _VERIFIED_LOCK:
        digest = _VERIFIED.get(key)
        record = _verified_record(env)
        if digest is None:
            digest = _load_record(record).get("|".join(map(str, key)))
        if digest is None:
            logger.info("checking the sha256 of %s (once)", path)
            digest = sha256_of(path)
            if digest == weight.sha256.lower():
                _remember(record, key, digest)
        _VERIFIED[key] = digest
    if digest != weight.sha256.lower():
        raise SkelextError(f"{what} (sha256 {digest}, expected {weight.sha256}); {fix}")
    return path


def ensure_file(weight: WeightFile, search_dirs: Sequence[Path], *, target_dir: Path,
                allow_download: Optional[bool] = None, progress: bool = True,
                timeout: float = DOWNLOAD_TIMEOUT_S, urlopen: Optional[Callable] = None,
                env: Optional[Mapping[str, str]] = None) -> Path:
    """Path of ``weight``: found in ``search_dirs`` or downloaded into ``target_dir``."""
    found = find_file(weight.name, search_dirs)
    if found is not None:
        return verify_local_file(weight, found, env=env)
    if allow_download is None:
        allow_download = not offline(env)
    looked = ", ".join(str(d) for d in search_dirs)
    if not allow_download:
        raise SkelextError(f"DWPose file {weight.name} not found (looked in: {looked}) and downloads are off "
                           f"({ENV_OFFLINE}=1); download {weight.url} and put it in {target_dir} "
                           f"(or pass --weights-dir / set {ENV_DWPOSE_DIR})")
    logger.info("%s not found locally; downloading it to %s", weight.name, target_dir)
    path = download_file(weight.url, target_dir / weight.name, weight.sha256, timeout=timeout,
                         progress=progress, urlopen=urlopen)
    try:  # verified while downloading: not hashed again at the next start
        key = _stat_key(path)
        with _VERIFIED_LOCK:
            _VERIFIED[key] = weight.sha256.lower()
            _remember(_verified_record(env), key, weight.sha256.lower())
    except OSError:
        pass
    return path


@dataclass(frozen=True)
class DWPosePaths:
    detector: Path
    pose: Path


def ensure_dwpose_weights(explicit_dir: Optional["str | os.PathLike[str]"] = None, *,
                          search_dirs: Optional[Sequence[Path]] = None,
                          allow_download: Optional[bool] = None, progress: bool = True,
                          timeout: float = DOWNLOAD_TIMEOUT_S, urlopen: Optional[Callable] = None,
                          env: Optional[Mapping[str, str]] = None) -> DWPosePaths:
    """Both DWPose files, found or downloaded. ``search_dirs`` defaults to
    ``dwpose_search_dirs(explicit_dir=explicit_dir)`` (host glue passes its own)."""
    dirs = list(search_dirs) if search_dirs is not None else dwpose_search_dirs(explicit_dir=explicit_dir, env=env)
    target = download_dir(dirs, explicit_dir, env)
    missing = [w.name for w in DWPOSE_FILES if find_file(w.name, dirs) is None]
    if missing and not (allow_download if allow_download is not None else not offline(env)):
        raise SkelextError(_missing_dwpose_message(missing, dirs, target, f"downloads are off ({ENV_OFFLINE}=1)"))
    paths: Dict[str, Path] = {}
    for weight in DWPOSE_FILES:
        try:
            paths[weight.name] = ensure_file(weight, dirs, target_dir=target, allow_download=allow_download,
                                             progress=progress, timeout=timeout, urlopen=urlopen, env=env)
        except SkelextError as exc:
            if weight.name not in missing:  # a file that is there but broken: its own message says what
                raise
            raise SkelextError(_missing_dwpose_message(missing, dirs, target, str(exc).split("; ")[0])) from None
    return DWPosePaths(detector=paths[DWPOSE_DETECTOR.name], pose=paths[DWPOSE_POSE.name])


def _missing_dwpose_message(missing: Sequence[str], dirs: Sequence[Path], target: Path, reason: str) -> str:
    """One line: every DWPose file missing, every folder searched, where to put them, and the offline
    alternative."""
    looked = ", ".join(str(d) for d in dirs) or "no folder"
    urls = " and ".join(w.url for w in DWPOSE_FILES if w.name in missing)
    return (f"DWPose needs {' and '.join(missing)}, not found in: {looked} ({reason.rstrip('.')}); download "
            f"{urls} into {target} (or pass --weights-dir / set {ENV_DWPOSE_DIR}), or choose the detector "
            "'blazepose' (mediapipe, offline, no files)")
