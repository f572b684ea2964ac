"""The studio's HTTP server: Starlette routes over the library, JSON in and out.

Every route is a line of the ``ROUTES`` table: a handler ``(studio, body) -> data`` that the
``_json`` wrapper runs in a worker thread (torch work must not block the event loop that streams
training events) and whose ``ConvlensError`` becomes an HTTP status and ``{"error": sentence}``.
The page itself (``static/``) is plain files; nothing is fetched from any other host.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from convlens.errors import ConvlensError
from convlens.studio import api_conv, api_export, api_inspect, api_spec, api_train
from convlens.studio.context import Studio
from convlens.studio.security import Busy, Forbidden, NotFound, check_host, check_token

STATIC = Path(__file__).parent / "static"
MAX_BODY = 16 * 1024 * 1024  # bytes; an uploaded picture is the largest thing a page sends

# error class -> HTTP status; any other ConvlensError is bad input (400)
STATUS: dict[type, int] = {Forbidden: 403, NotFound: 404, Busy: 409}

Handler = Callable[[Studio, dict[str, Any]], Any]


def _status(err: ConvlensError) -> int:
    return next((code for cls, code in STATUS.items() if isinstance(err, cls)), 400)


def error(err: ConvlensError) -> JSONResponse:
    return JSONResponse({"error": str(err)}, status_code=_status(err))


async def _body(request: Request) -> dict[str, Any]:
    if request.method != "POST":
        return {}
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ConvlensError(f"the request is larger than {MAX_BODY // 2**20} MB.")
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ConvlensError("the request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ConvlensError("the request body must be a JSON object.")
    return body


def _json(handler: Handler) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        try:
            body = await _body(request)
            result = await run_in_threadpool(handler, request.app.state.studio, body)
        except ConvlensError as err:
            return error(err)
        return JSONResponse(result)

    return endpoint


async def run_detail(request: Request) -> Response:
    try:
        studio = request.app.state.studio
        result = await run_in_threadpool(api_train.run_detail, studio, request.path_params["run"])
    except ConvlensError as err:
        return error(err)
    return JSONResponse(result)


async def compare(request: Request) -> Response:
    studio, query = request.app.state.studio, request.query_params
    try:
        result = await run_in_threadpool(api_train.compare, studio, query.get("a"), query.get("b"))
    except ConvlensError as err:
        return error(err)
    return JSONResponse(result)


async def events(request: Request) -> Response:
    studio = request.app.state.studio
    run = request.path_params["run"]
    try:
        api_train.run_path(studio.runs_root, run)  # refuse before the stream starts
    except ConvlensError as err:
        return error(err)
    stream = api_train.events(studio, run, request.is_disconnected)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


async def export(request: Request) -> Response:
    try:
        body = await _body(request)
        name, media, data = await run_in_threadpool(
            api_export.export, request.app.state.studio, body
        )
    except ConvlensError as err:
        return error(err)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(data, media_type=media, headers=headers)


async def index(_request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/api/info", _json(api_spec.info)),
    ("GET", "/api/catalog", _json(api_spec.catalog)),
    ("POST", "/api/spec", _json(api_spec.spec)),
    ("POST", "/api/rf", _json(api_spec.rf)),
    ("POST", "/api/conv", _json(api_conv.conv)),
    ("POST", "/api/train", _json(api_train.start)),
    ("POST", "/api/train/pause", _json(api_train.control("pause"))),
    ("POST", "/api/train/resume", _json(api_train.control("resume"))),
    ("POST", "/api/train/stop", _json(api_train.control("stop"))),
    ("POST", "/api/train/lr", _json(api_train.control("set_lr"))),
    ("GET", "/api/runs", _json(api_train.list_runs)),
    # {run:path}: a run id may hold slashes (a run in a sub-folder), and a percent-encoded "../"
    # must reach the check (and its 403) instead of falling through to "no such route"
    ("GET", "/api/runs/{run:path}/events", events),
    ("GET", "/api/runs/{run:path}", run_detail),
    ("POST", "/api/inspect", _json(api_inspect.inspect)),
    ("POST", "/api/inspect/cell", _json(api_inspect.cell)),
    ("POST", "/api/class_image", _json(api_inspect.class_image)),
    ("POST", "/api/dream", _json(api_inspect.dream)),
    ("GET", "/api/compare", compare),
    ("POST", "/api/export", export),
    ("GET", "/", index),
]


class _Guard:
    """ASGI middleware: the token (off loopback) or a loopback Host header, on every request."""

    def __init__(self, app: Any, studio: Studio) -> None:
        self.app, self.studio = app, studio

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            # the page's own scripts and styles are the package's files, the same for everyone,
            # and a <script src> cannot carry the token: they are served without it
            if not (request.method == "GET" and scope["path"].startswith("/static/")):
                check_token(request.query_params.get("token"), self.studio.token)
            check_host(request.headers.get("host"), self.studio.token)
        except ConvlensError as err:
            await error(err)(scope, receive, send)
            return

        async def send_uncached(message: dict) -> None:
            # a newer convlens must never run against a browser's copy of an older page
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"cache-control"]
                message = {**message, "headers": [*headers, (b"cache-control", b"no-cache")]}
            await send(message)

        await self.app(scope, receive, send_uncached)


def create_app(studio: Studio, *, warm: bool = True) -> Any:
    """The ASGI application for one studio; ``warm`` loads torch and the zoo in the background."""

    @asynccontextmanager
    async def lifespan(_app: Starlette):  # type: ignore[no-untyped-def]
        if warm:
            threading.Thread(target=studio.load_catalog, daemon=True, name="convlens-zoo").start()
        try:
            yield
        finally:  # Ctrl-C: stop a running training so that it leaves its resume state
            await run_in_threadpool(studio.trainer.shutdown)

    routes: list[Any] = [
        Route(path, endpoint, methods=[method]) for method, path, endpoint in ROUTES
    ]
    routes.append(
        Mount("/static", app=StaticFiles(directory=STATIC, check_dir=False), name="static")
    )
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.studio = studio
    return _Guard(app, studio)
