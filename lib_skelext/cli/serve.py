"""``serve`` (the REST API with uvicorn) and ``ui`` (the Gradio editor) on their own."""
from __future__ import annotations

import argparse
import os

from ..errors import SkelextError


def cmd_serve(args: argparse.Namespace) -> int:
    from ..api.auth import parse_credentials
    from ..api.server import ENV_AUTH, serve

    if not 0 < int(args.port) < 65536:
        raise SkelextError(f"--port must be 1..65535, got {args.port}")
    auth = args.auth if args.auth is not None else os.environ.get(ENV_AUTH) or None
    parse_credentials(auth)  # fail early on a malformed value
    serve(args.host, int(args.port), auth, dwpose_weights_dir=args.weights_dir)
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from ..ui import ENV_UI_AUTH, launch

    try:
        import gradio  # noqa: F401  (only: is it installed?)
    except ImportError:
        raise SkelextError("the ui command needs gradio: pip install gradio") from None
    launch(args.host, args.port, args.auth if args.auth is not None else os.environ.get(ENV_UI_AUTH) or None)
    return 0


def add_commands(sub: "argparse._SubParsersAction") -> None:
    from ..api.limits import PREFIX

    p = sub.add_parser(
        "serve", help="run the REST API (/skelext/v1/) on its own",
        description=f"Serve {PREFIX}/ (complete, detect, render, info) with uvicorn. Binds 127.0.0.1 "
                    "unless told otherwise; give --auth (or set SKELEXT_API_AUTH) before listening on other "
                    "addresses.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7870, help="port (default 7870)")
    p.add_argument("--auth", default=None, metavar="USER:PASS[,USER:PASS]",
                   help="require HTTP basic auth, as the WebUI's --api-auth (default: $SKELEXT_API_AUTH)")
    p.add_argument("--weights-dir", default=None, metavar="DIR",
                   help="folder with yolox_l.onnx and dw-ll_ucoco_384.onnx (default: the usual places)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("ui", help="serve the pose editor (Gradio) in the browser",
                       description="Inspect and edit completed skeletons in the browser: the WebUI tab, standalone.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7861, help="port (default 7861)")
    p.add_argument("--auth", default=None, metavar="USER:PASS[,USER:PASS]",
                   help="ask for a login (gradio auth; default: $SKELEXT_UI_AUTH); give it before listening on "
                        "other addresses")
    p.set_defaults(func=cmd_ui)
