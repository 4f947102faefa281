"""`/docs`: the API documentation (Swagger UI) from packaged assets, so it works offline.

The Swagger UI files come from the installed `fastapi-offline` package; the page loads them
and its own start-up script from this server, with no inline script (see security_headers).
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from ledger.api.problems import Problem

router = APIRouter(include_in_schema=False)

ASSETS: dict[str, str] = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
}
START = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""
PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8>"
    "<meta name=viewport content='width=device-width,initial-scale=1'>"
    "<title>ledger API documentation</title>"
    "<link rel=stylesheet href='/docs/assets/swagger-ui.css'></head>"
    "<body><div id=swagger-ui></div>"
    "<script src='/docs/assets/swagger-ui-bundle.js'></script>"
    "<script src='/docs/assets/start.js'></script></body></html>"
)


def _asset(name: str) -> Traversable:
    return files("fastapi_offline") / "static" / name


@router.get("/docs")
def docs() -> HTMLResponse:
    return HTMLResponse(PAGE)


@router.get("/docs/assets/{name}")
def asset(name: str) -> Response:
    headers = {"Cache-Control": "public, max-age=86400"}
    if name == "start.js":
        return Response(START, media_type="text/javascript; charset=utf-8", headers=headers)
    if name not in ASSETS:
        raise Problem(404, "not-found", "No such asset", f"no documentation asset {name!r}")
    return Response(_asset(name).read_bytes(), media_type=ASSETS[name], headers=headers)
