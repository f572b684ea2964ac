"""`convlens studio [RUN_DIR_OR_RUNS_FOLDER]`: start the local page and open it in the browser.

The server binds 127.0.0.1 unless --host says otherwise; on any other interface it makes a random
access token and prints it in the URL, as Jupyter does. Ctrl-C stops the server; a training it
runs stops too, leaving a run directory that `convlens train --resume --out DIR` continues.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from convlens.commands._data_args import add_data_arguments, check_options, data_options
from convlens.errors import ConfigError

if TYPE_CHECKING:
    from convlens.studio.context import Studio


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", nargs="?", default="runs",
        help="a runs folder to list and train into, or one run directory (default: ./runs)",
    )  # fmt: skip
    parser.add_argument("--data", help="data set name or your own data's path to offer")
    parser.add_argument("--port", type=int, default=8765, help="port (default: 8765; 0: any free)")
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: 127.0.0.1)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    add_data_arguments(parser)


def studio_from_args(args: argparse.Namespace) -> Studio:
    """The Studio the flags describe (runs folder, start run, data, token)."""
    from convlens.studio.context import Studio
    from convlens.studio.runs import is_run_dir
    from convlens.studio.security import is_loopback, new_token

    path = Path(args.path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{args.path!r} is a file; give a runs folder or a run directory.")
    run = None
    if is_run_dir(path):  # one run: serve the folder that holds it, and open that run
        run, path = path.resolve().name, path.resolve().parent
    data_path = None
    if args.data and (Path(args.data).exists() or "/" in args.data or "\\" in args.data):
        if not Path(args.data).exists():
            raise ConfigError(f"data path {args.data!r} does not exist.")
        data_path = Path(args.data).resolve()
    options = data_options(args)
    check_options(args.data, options)
    token = None if is_loopback(args.host) else new_token()
    return Studio(
        path.resolve(), run=run, data=args.data, data_path=data_path, data_options=options,
        token=token,
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from convlens.studio.server import create_app

    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, not {args.port}.")
    studio = studio_from_args(args)
    config = uvicorn.Config(
        create_app(studio), host=args.host, port=args.port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    _announce(server, studio, args)
    server.run()
    return 0


def _announce(server: object, studio: object, args: argparse.Namespace) -> None:
    """Print the URL (and open the browser) once the socket listens."""
    import threading
    import time
    import webbrowser

    def wait_then_print() -> None:
        while not getattr(server, "started", False):
            if getattr(server, "should_exit", False):
                return
            time.sleep(0.02)
        servers = getattr(server, "servers", [])
        port = args.port
        if servers and servers[0].sockets:
            port = servers[0].sockets[0].getsockname()[1]
        host = args.host if ":" not in args.host else f"[{args.host}]"
        token = getattr(studio, "token", None)
        url = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
        print(f"convlens studio: {url}", flush=True)
        print(f"runs folder {getattr(studio, 'runs_root', '')}; Ctrl-C stops", flush=True)
        if not args.no_browser:
            webbrowser.open(url)

    threading.Thread(target=wait_then_print, daemon=True).start()
