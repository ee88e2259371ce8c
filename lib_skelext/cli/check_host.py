"""``check-host --webui URL | --comfyui URL``: check skelext inside a host that runs."""
from __future__ import annotations

import argparse
from typing import List

from ..errors import SkelextError


def cmd_check_host(args: argparse.Namespace) -> int:
    from ..hostcheck.report import Check, print_report

    if not args.webui and not args.comfyui:
        raise SkelextError("give --webui URL and/or --comfyui URL of a running host")
    checks: List[Check] = []
    if args.webui:
        from ..hostcheck.webui import run_checks

        checks += run_checks(args.webui, auth=args.auth, browser=args.browser, screenshots=args.screenshots,
                             timeout=args.timeout, photo=args.photo)
    if args.comfyui:
        from ..hostcheck.comfyui import run_checks as run_comfy

        checks += run_comfy(args.comfyui, timeout=args.timeout)
    return print_report(checks)


def add_commands(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("check-host", help="check skelext inside a running WebUI/Forge or ComfyUI",
                       description="Talk to a host that already runs (it is never installed or started here) "
                                   "and print one line per check and a summary; exit 1 if any failed.")
    p.add_argument("--webui", metavar="URL", default=None, help="A1111 WebUI or Forge, e.g. http://127.0.0.1:7860")
    p.add_argument("--comfyui", metavar="URL", default=None, help="ComfyUI, e.g. http://127.0.0.1:8188")
    p.add_argument("--auth", metavar="USER:PASS", default=None, help="the WebUI's --api-auth credentials")
    p.add_argument("--browser", action="store_true", help="also drive the WebUI page in headless Chromium")
    p.add_argument("--screenshots", metavar="DIR", default="check-host-screenshots",
                   help="where --browser saves screenshots (default ./check-host-screenshots)")
    p.add_argument("--photo", metavar="PHOTO", default=None,
                   help="photo of a person cut at the waist for the detect checks "
                        "(default: the repository's examples/skimage_astronaut.png)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per request (default 120)")
    p.set_defaults(func=cmd_check_host)
