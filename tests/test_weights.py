"""Weights lookup and download; never touches the network (urlopen is faked)."""
from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from lib_skelext import weights as W
from lib_skelext.errors import SkelextError


def test_search_dirs_order_and_host_values(tmp_path):
    root = tmp_path / "webui"
    dirs = W.dwpose_search_dirs(
        explicit_dir=tmp_path / "mine",
        control_net_modules_path="cn_models",           # relative: resolved against data_path
        controlnet_annotator_models_path=str(tmp_path / "flag"),
        webui_root=root,
        data_path=root,
        env={"SKELEXT_DWPOSE_DIR": str(tmp_path / "envdir"), "XDG_CACHE_HOME": str(tmp_path / "xdg")},
    )
    assert dirs == [
        tmp_path / "mine",
        tmp_path / "envdir",
        root / "cn_models" / "openpose",
        tmp_path / "flag" / "openpose",
        root / "extensions" / "sd-webui-controlnet" / "annotator" / "downloads" / "openpose",
        root / "models" / "openpose",
        root / "models" / "ControlNetPreprocessor" / "openpose",
        root / "models" / "skelext" / "dwpose",
        tmp_path / "xdg" / "skelext" / "dwpose",
    ]


def test_search_dirs_standalone_defaults(tmp_path):
    dirs = W.dwpose_search_dirs(env={"XDG_CACHE_HOME": str(tmp_path)})
    assert dirs == [tmp_path / "skelext" / "dwpose"]
    home = W.dwpose_search_dirs(env={})
    assert home == [Path(os.path.expanduser("~")) / ".cache" / "skelext" / "dwpose"]


def test_search_dirs_dedupe_and_forge_models_path(tmp_path):
    models = tmp_path / "models"
    dirs = W.dwpose_search_dirs(explicit_dir=models / "openpose", models_path=models, env={"XDG_CACHE_HOME": "/c"})
    assert dirs[0] == models / "openpose" and dirs.count(models / "openpose") == 1
    assert models / "ControlNetPreprocessor" / "openpose" in dirs
    assert W.download_dir(dirs, None, env={}) == models / "skelext" / "dwpose"
    assert W.download_dir(dirs, tmp_path / "x", env={}) == tmp_path / "x"


def stand_in_files(monkeypatch, folder: Path) -> dict:
    """Small files in ``folder`` under DWPose's names, published as the official ones
    (``DWPOSE_FILES`` monkeypatched to their hashes and sizes) -> {name: bytes}."""
    folder.mkdir(parents=True, exist_ok=True)
    contents, files = {}, []
    for f in W.DWPOSE_FILES:
        data = os.urandom(64) + f.name.encode()
        (folder / f.name).write_bytes(data)
        contents[f.name] = data
        files.append(W.WeightFile(f.name, hashlib.sha256(data).hexdigest(), f.url, len(data)))
    monkeypatch.setattr(W, "DWPOSE_FILES", tuple(files))
    monkeypatch.setattr(W, "_VERIFIED", {})
    return contents


def test_found_in_controlnet_folder_no_download(tmp_path, monkeypatch):
    cn = tmp_path / "webui" / "extensions" / "sd-webui-controlnet" / "annotator" / "downloads" / "openpose"
    stand_in_files(monkeypatch, cn)

    def no_network(*a, **k):
        raise AssertionError("must not download")

    dirs = W.dwpose_search_dirs(webui_root=tmp_path / "webui", env={"XDG_CACHE_HOME": str(tmp_path / "c")})
    paths = W.ensure_dwpose_weights(search_dirs=dirs, urlopen=no_network, env={})
    assert paths.detector == cn / "yolox_l.onnx" and paths.pose == cn / "dw-ll_ucoco_384.onnx"


def test_empty_file_is_not_found(tmp_path):
    (tmp_path / "yolox_l.onnx").write_bytes(b"")
    assert W.find_file("yolox_l.onnx", [tmp_path]) is None


def test_offline_error_is_one_clear_line(tmp_path):
    dirs = W.dwpose_search_dirs(explicit_dir=tmp_path / "w", env={"XDG_CACHE_HOME": str(tmp_path / "c")})
    with pytest.raises(SkelextError) as err:
        W.ensure_dwpose_weights(tmp_path / "w", search_dirs=dirs, env={"SKELEXT_OFFLINE": "1"})
    msg = str(err.value)
    assert "\n" not in msg
    assert "yolox_l.onnx" in msg and str(tmp_path / "w") in msg and str(tmp_path / "c") in msg
    assert "https://huggingface.co/yzd-v/DWPose/resolve/main/yolox_l.onnx" in msg
    # both missing files, every folder searched, and the offline alternative
    assert "dw-ll_ucoco_384.onnx" in msg and "blazepose" in msg
    # the parameter works too, whatever the environment says
    with pytest.raises(SkelextError):
        W.ensure_dwpose_weights(tmp_path / "w", search_dirs=dirs, allow_download=False, env={})


def test_failed_download_names_both_files_the_folders_and_blazepose(tmp_path):
    import urllib.error

    def offline(request, timeout):
        raise urllib.error.URLError("Name or service not known")

    with pytest.raises(SkelextError) as err:
        W.ensure_dwpose_weights(tmp_path / "w", search_dirs=[tmp_path / "w", tmp_path / "other"],
                                allow_download=True, urlopen=offline, env={})
    msg = str(err.value)
    assert "\n" not in msg
    for part in ("yolox_l.onnx", "dw-ll_ucoco_384.onnx", str(tmp_path / "w"), str(tmp_path / "other"),
                 "Name or service not known", "blazepose"):
        assert part in msg, part


class FakeResponse(io.BytesIO):
    def __init__(self, data: bytes, length=True, fail_after=None):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))} if length else {}
        self.fail_after = fail_after
        self.reads = 0

    def read(self, n=-1):
        self.reads += 1
        if self.fail_after is not None and self.reads > self.fail_after:
            raise ConnectionResetError("connection reset")
        return super().read(min(n, 1000) if n and n > 0 else n)  # small chunks: several progress steps


def fake_urlopen(payloads, calls):
    def opener(request, timeout=None):
        calls.append((request.full_url, timeout))
        return payloads[request.full_url]()
    return opener


def test_download_verifies_and_writes_atomically(tmp_path, monkeypatch):
    data = os.urandom(5000)
    url = "https://example.invalid/m.onnx"
    updates = []

    class Bar:
        def __init__(self, total=None, **kw):
            updates.append(("total", total))

        def update(self, n):
            updates.append(("update", n))

        def close(self):
            updates.append(("close",))

    import tqdm
    monkeypatch.setattr(tqdm, "tqdm", Bar)
    calls = []
    dest = tmp_path / "sub" / "m.onnx"
    out = W.download_file(url, dest, hashlib.sha256(data).hexdigest(), timeout=7,
                          urlopen=fake_urlopen({url: lambda: FakeResponse(data)}, calls))
    assert out == dest and dest.read_bytes() == data
    assert calls == [(url, 7)]
    assert updates[0] == ("total", 5000) and updates[-1] == ("close",)
    assert sum(u[1] for u in updates if u[0] == "update") == 5000 and len(updates) > 3
    assert sorted(p.name for p in dest.parent.iterdir()) == ["m.onnx"]  # no temp file left


def test_sha_mismatch_leaves_nothing(tmp_path):
    url = "https://example.invalid/m.onnx"
    dest = tmp_path / "m.onnx"
    with pytest.raises(SkelextError, match="sha256"):
        W.download_file(url, dest, "0" * 64, progress=False,
                        urlopen=fake_urlopen({url: lambda: FakeResponse(b"wrong bytes")}, []))
    assert list(tmp_path.iterdir()) == []


def test_sha_mismatch_keeps_an_existing_file(tmp_path):
    url = "https://example.invalid/m.onnx"
    dest = tmp_path / "m.onnx"
    dest.write_bytes(b"old")
    with pytest.raises(SkelextError):
        W.download_file(url, dest, "0" * 64, progress=False,
                        urlopen=fake_urlopen({url: lambda: FakeResponse(b"new")}, []))
    assert dest.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_broken_download_and_network_errors(tmp_path):
    import urllib.error

    url = "https://example.invalid/m.onnx"
    with pytest.raises(SkelextError, match="broke off"):
        W.download_file(url, tmp_path / "m.onnx", None, progress=False,
                        urlopen=fake_urlopen({url: lambda: FakeResponse(b"x" * 5000, fail_after=2)}, []))

    def refuse(request, timeout=None):
        raise urllib.error.URLError("Name or service not known")

    with pytest.raises(SkelextError) as err:
        W.download_file(url, tmp_path / "m.onnx", None, progress=False, urlopen=refuse)
    assert "Name or service not known" in str(err.value) and "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_ensure_downloads_missing_files_into_explicit_dir(tmp_path, monkeypatch):
    blobs = {f.url: f.name.encode() * 100 for f in W.DWPOSE_FILES}
    monkeypatch.setattr(W, "DWPOSE_FILES", tuple(
        W.WeightFile(f.name, hashlib.sha256(blobs[f.url]).hexdigest(), f.url) for f in W.DWPOSE_FILES))
    # one file already in the user cache: only the other is fetched, into the explicit folder
    cache = tmp_path / "xdg" / "skelext" / "dwpose"
    cache.mkdir(parents=True)
    (cache / "yolox_l.onnx").write_bytes(blobs[W.DWPOSE_FILES[0].url])
    monkeypatch.setattr(W, "_VERIFIED", {})
    calls = []
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    paths = W.ensure_dwpose_weights(tmp_path / "w", progress=False, env=env,
                                    urlopen=fake_urlopen({u: (lambda b=b: FakeResponse(b)) for u, b in blobs.items()},
                                                         calls))
    assert paths.detector == cache / "yolox_l.onnx"
    assert paths.pose == tmp_path / "w" / "dw-ll_ucoco_384.onnx"
    assert [c[0] for c in calls] == ["https://huggingface.co/yzd-v/DWPose/resolve/main/dw-ll_ucoco_384.onnx"]


def test_downloads_go_to_skelext_cache_by_default(tmp_path, monkeypatch):
    blobs = {f.url: b"m" + f.name.encode() for f in W.DWPOSE_FILES}
    monkeypatch.setattr(W, "DWPOSE_FILES", tuple(
        W.WeightFile(f.name, hashlib.sha256(blobs[f.url]).hexdigest(), f.url) for f in W.DWPOSE_FILES))
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    paths = W.ensure_dwpose_weights(progress=False, env=env,
                                    urlopen=fake_urlopen({u: (lambda b=b: FakeResponse(b)) for u, b in blobs.items()},
                                                         []))
    assert paths.pose.parent == tmp_path / "xdg" / "skelext" / "dwpose"


def test_offline_env_flag_values():
    assert W.offline({"SKELEXT_OFFLINE": "1"}) and W.offline({"SKELEXT_OFFLINE": "true"})
    assert not W.offline({}) and not W.offline({"SKELEXT_OFFLINE": "0"})


def test_published_hashes():
    assert W.DWPOSE_DETECTOR.sha256 == "7860ae79de6c89a3c1eb72ae9a2756c0ccfbe04b7791bb5880afabd97855a411"
    assert W.DWPOSE_POSE.sha256 == "724f4ff2439ed61afb86fb8a1951ec39c6220682803b4a8bd4f598cd913b1843"


# ------------------------------------------------------- local files: sha256 once
def test_local_file_checked_once_and_remembered(tmp_path, monkeypatch):
    folder = tmp_path / "cn" / "openpose"
    stand_in_files(monkeypatch, folder)
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    hashed = []
    real = W.sha256_of
    monkeypatch.setattr(W, "sha256_of", lambda p: hashed.append(Path(p).name) or real(p))
    paths = W.ensure_dwpose_weights(search_dirs=[folder], allow_download=False, env=env)
    assert paths.detector == folder / "yolox_l.onnx"
    assert sorted(hashed) == ["dw-ll_ucoco_384.onnx", "yolox_l.onnx"]
    W.ensure_dwpose_weights(search_dirs=[folder], allow_download=False, env=env)
    assert len(hashed) == 2  # remembered in memory
    monkeypatch.setattr(W, "_VERIFIED", {})  # a new process: the record on disk remembers
    W.ensure_dwpose_weights(search_dirs=[folder], allow_download=False, env=env)
    assert len(hashed) == 2
    record = tmp_path / "xdg" / "skelext" / W.VERIFIED_FILE
    assert str((folder / "yolox_l.onnx").resolve()) in record.read_text()
    # a changed file (new mtime) is hashed again
    st = (folder / "yolox_l.onnx").stat()
    os.utime(folder / "yolox_l.onnx", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    W.ensure_dwpose_weights(search_dirs=[folder], allow_download=False, env=env)
    assert hashed.count("yolox_l.onnx") == 2


@pytest.mark.parametrize("damage", ["truncated", "foreign"])
def test_local_file_mismatch_is_one_clear_line(tmp_path, monkeypatch, damage):
    folder = tmp_path / "openpose"
    contents = stand_in_files(monkeypatch, folder)
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    pose = folder / "dw-ll_ucoco_384.onnx"
    if damage == "truncated":
        pose.write_bytes(contents[pose.name][:20])
    else:  # same size, other bytes
        pose.write_bytes(bytes(reversed(contents[pose.name])))
    with pytest.raises(SkelextError) as err:
        W.ensure_dwpose_weights(search_dirs=[folder], allow_download=False, env=env)
    msg = str(err.value)
    assert "\n" not in msg and str(pose) in msg and "not the official dw-ll_ucoco_384.onnx" in msg
    assert ("20 bytes, expected" in msg) if damage == "truncated" else ("sha256 " in msg)
    assert "huggingface.co/yzd-v/DWPose" in msg and "SKELEXT_SKIP_SHA256" in msg
    assert not (tmp_path / "xdg" / "skelext" / W.VERIFIED_FILE).exists() or \
        str(pose.resolve()) not in (tmp_path / "xdg" / "skelext" / W.VERIFIED_FILE).read_text()
    # the escape hatch for converted files and test stand-ins
    paths = W.ensure_dwpose_weights(search_dirs=[folder], allow_download=False,
                                    env=dict(env, SKELEXT_SKIP_SHA256="1"))
    assert paths.pose == pose


def test_official_pose_file_size_is_checked_before_hashing(tmp_path, monkeypatch):
    (tmp_path / "dw-ll_ucoco_384.onnx").write_bytes(b"x" * 1000)
    monkeypatch.setattr(W, "sha256_of", lambda p: pytest.fail("hashed a file of the wrong size"))
    with pytest.raises(SkelextError, match="1000 bytes, expected 134399116"):
        W.verify_local_file(W.DWPOSE_POSE, tmp_path / "dw-ll_ucoco_384.onnx", env={})


def test_download_is_remembered_as_verified(tmp_path, monkeypatch):
    data = os.urandom(3000)
    weight = W.WeightFile("m.onnx", hashlib.sha256(data).hexdigest(), "https://example.invalid/m.onnx")
    monkeypatch.setattr(W, "_VERIFIED", {})
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    path = W.ensure_file(weight, [tmp_path / "w"], target_dir=tmp_path / "w", progress=False, env=env,
                         urlopen=fake_urlopen({weight.url: lambda: FakeResponse(data)}, []))
    monkeypatch.setattr(W, "sha256_of", lambda p: pytest.fail("a downloaded file was hashed again"))
    assert W.ensure_file(weight, [tmp_path / "w"], target_dir=tmp_path / "w", allow_download=False,
                         env=env) == path
