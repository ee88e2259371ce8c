"""Load test of the standalone REST server: 50 concurrent clients per route, from a second process.

    .venv/bin/python bench/bench_server_load.py [--clients 50] [--seconds 20] [--routes complete,render,detect,info]

Starts ``python -m lib_skelext serve`` (127.0.0.1, a free port, ``--auth``) as a
subprocess, waits until it answers, then for each route starts a *driver*
subprocess (``--drive``) that keeps ``--clients`` requests in flight for
``--seconds`` (asyncio + httpx, one keep-alive connection per client) and prints
JSON stats. Prints per route: requests, throughput, p50/p99/max latency and the
error count (any status but 200, or a transport error). Also measures
``complete`` with one client (no queueing), the latency a single user sees.
``detect`` uses BlazePose (DWPose's weights are not needed). Asserts nothing.
The server's own log goes to a temporary file, shown when it fails to start.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parents[1]
AUTH = ("bench", "load-test")
PHOTO = REPO / "examples" / "coco_000000000785_crop_hipsup.jpg"
POSE = REPO / "examples" / "waist_up.json"


# ------------------------------------------------------------------ the server
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(extra_args: Sequence[str] = (), auth: Optional[Tuple[str, str]] = AUTH,
                 timeout_s: float = 60.0) -> Tuple[subprocess.Popen, str, "tempfile._TemporaryFileWrapper"]:
    """``python -m lib_skelext serve`` on 127.0.0.1 and a free port; returns (process, base URL, log file)."""
    import httpx

    port = free_port()
    log = tempfile.NamedTemporaryFile("w+", prefix="skelext-serve-", suffix=".log")
    args = [sys.executable, "-m", "lib_skelext", "serve", "--host", "127.0.0.1", "--port", str(port), *extra_args]
    if auth:
        args += ["--auth", f"{auth[0]}:{auth[1]}"]
    proc = subprocess.Popen(args, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if httpx.get(f"{base}/skelext/v1/info", auth=auth, timeout=2).status_code == 200:
                return proc, base, log
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(proc)
    log.seek(0)
    raise RuntimeError(f"server did not start: {' '.join(args)}\n{log.read()[-3000:]}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------ the driver
def payloads() -> Dict[str, Tuple[str, str, Optional[dict]]]:
    """route -> (method, path, JSON body)."""
    pose = json.loads(POSE.read_text())
    image = base64.b64encode(PHOTO.read_bytes()).decode()
    return {
        "complete": ("POST", "/skelext/v1/complete", {"pose": pose}),
        "render": ("POST", "/skelext/v1/render", {"pose": pose}),
        "detect": ("POST", "/skelext/v1/detect", {"image": image, "detector": "blazepose", "resolution": 256}),
        "info": ("GET", "/skelext/v1/info", None),
    }


async def _drive(base: str, route: str, clients: int, seconds: float) -> dict:
    import httpx

    method, path, body = payloads()[route]
    content = json.dumps(body).encode() if body is not None else None
    headers = {"content-type": "application/json"} if body is not None else {}
    latencies: List[float] = []
    errors: Dict[str, int] = {}
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, auth=AUTH, timeout=60) as c:
            while time.perf_counter() < stop_at:
                t = time.perf_counter()
                try:
                    r = await c.request(method, path, content=content, headers=headers)
                    if r.status_code != 200:
                        errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
                        continue
                    r.json()
                except (httpx.HTTPError, ValueError) as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    continue
                latencies.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - t0
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")

    return {"route": route, "clients": clients, "ok": len(latencies), "errors": errors, "wall_s": wall,
            "throughput": len(latencies) / wall, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "max_ms": latencies[-1] * 1000 if latencies else float("nan"),
            "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan")}


def drive_in_subprocess(base: str, route: str, clients: int, seconds: float) -> dict:
    out = subprocess.run([sys.executable, __file__, "--drive", base, "--route", route, "--clients", str(clients),
                          "--seconds", str(seconds)], capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode != 0:
        raise RuntimeError(f"driver failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0, help="per route (info, detect: a quarter, half)")
    ap.add_argument("--routes", default="complete,render,detect,info")
    ap.add_argument("--drive", metavar="BASE_URL", help=argparse.SUPPRESS)
    ap.add_argument("--route", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.drive:
        print(json.dumps(asyncio.run(_drive(args.drive, args.route, args.clients, args.seconds))))
        return 0

    proc, base, log = start_server()
    try:
        # warm-up (model loading is not timed): one request per route
        for route in ("complete", "detect"):
            drive_in_subprocess(base, route, 1, 0.5)
        results = []
        for route in args.routes.split(","):
            seconds = {"info": args.seconds / 4, "detect": args.seconds / 2}.get(route, args.seconds)
            results.append(drive_in_subprocess(base, route, args.clients, seconds))
        single = drive_in_subprocess(base, "complete", 1, min(10.0, args.seconds / 2))
        alive = proc.poll() is None
    finally:
        stop_server(proc)
        log.close()
    print(f"server: python -m lib_skelext serve (127.0.0.1, --auth, uvicorn) pid {proc.pid}; "
          f"driver: a second process, asyncio + httpx; cpus={os.cpu_count()}")
    print(f"{'route':9s} {'clients':>7s} {'requests':>8s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} "
          f"{'max ms':>8s} {'errors':>7s}")
    for r in results + [single]:
        n_err = sum(r["errors"].values())
        print(f"{r['route']:9s} {r['clients']:7d} {r['ok']:8d} {r['throughput']:8.1f} {r['p50_ms']:8.1f} "
              f"{r['p99_ms']:8.1f} {r['max_ms']:8.1f} {n_err:7d}" + (f"  {r['errors']}" if n_err else ""))
    loaded = next((r for r in results if r["route"] == "complete"), {})
    total_err = sum(sum(r["errors"].values()) for r in results + [single])
    print(f"errors: {total_err}; server still running at the end: {alive}; "
          f"complete p99 with 1 client: {single['p99_ms']:.1f} ms (target < 20 ms), "
          f"with {args.clients} clients: {loaded.get('p99_ms', float('nan')):.1f} ms (queueing: {args.clients} "
          f"requests share {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
