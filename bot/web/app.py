"""The ASGI app of `newsbot serve`: the HTTP API, the page, and errors as JSON with a status.

`create_app` builds it around one answerer, opened once and shared by every request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException

from bot.answer import Answer
from bot.catalog import Filters, date_ordinal
from bot.chain import WarmAnswerer
from bot.config import Settings
from bot.errors import NewsbotError
from bot.web.errors import error_message, status_for
from bot.web.guard import Guard
from bot.web.pages import register_pages

logger = logging.getLogger(__name__)


class AskRequest(BaseModel):
    """A question and the filters `newsbot ask` takes."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="the question, at most 1,000 characters")
    k: int | None = Field(default=None, ge=1, le=100, description="chunks to retrieve")
    outlet: str | None = Field(default=None, description="only articles whose outlet has this")
    since: str | None = Field(default=None, description="only articles from YYYY-MM-DD on")
    until: str | None = Field(default=None, description="only articles up to YYYY-MM-DD")

    @field_validator("since", "until")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        if value and not date_ordinal(value):
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
        return value


class ErrorBody(BaseModel):
    """What every error response holds."""

    error: str


class ArticleListing(BaseModel):
    """One indexed article, as `newsbot sources --json` prints it."""

    path: str
    title: str
    outlet: str | None
    published: str | None
    url: str | None
    chunks: int


def create_app(
    settings: Settings,
    answerer: WarmAnswerer | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> FastAPI:
    """Return the app: API, page, error handlers, and the guard (token, limits, headers)."""
    answerer = answerer if answerer is not None else WarmAnswerer(settings)
    app = FastAPI(
        title="newsbot",
        summary="Questions over news articles; contested claims attributed and cited.",
        redoc_url=None,
    )
    errors: dict[int | str, dict[str, Any]] = {
        400: {"model": ErrorBody, "description": "bad input"},
        401: {"model": ErrorBody, "description": "missing or wrong bearer token"},
        404: {"model": ErrorBody, "description": "no index"},
        413: {"model": ErrorBody, "description": "request body too large"},
        429: {"model": ErrorBody, "description": "too many requests"},
        503: {"model": ErrorBody, "description": "the index store or the model is down"},
    }

    answered: dict[int | str, dict[str, Any]] = {
        200: {"model": Answer, "description": "the `newsbot ask --json` object"}
    }

    @app.post("/api/ask", response_model=None, responses=answered | errors)
    def ask(request: AskRequest) -> Response:
        """Answer a question: the same object `newsbot ask --json` prints."""
        filters = Filters(outlet=request.outlet, since=request.since, until=request.until)
        answer = answerer(request.question, k=request.k, filters=filters)
        return Response(answer.to_json() + "\n", media_type="application/json")

    @app.get("/api/sources", response_model=list[ArticleListing], responses=errors)
    def sources() -> list[dict[str, Any]]:
        """List the indexed articles, as `newsbot sources --json` does."""
        return [record.listing() for record in answerer.get().index.catalog.articles()]

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        """Say whether the server can answer: 200 with the index's generation and size, or 503."""
        ready, report = answerer.health()
        if not ready:
            body = {"status": "unavailable", "error": error_message(report["error"], settings)}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ok", **report})

    @app.exception_handler(NewsbotError)
    def on_failure(request: Request, exc: NewsbotError) -> JSONResponse:
        return JSONResponse({"error": error_message(exc, settings)}, status_code=status_for(exc))

    @app.exception_handler(RequestValidationError)
    def on_bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": invalid_request(exc)}, status_code=400)

    @app.exception_handler(HTTPException)
    def on_http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    def on_bug(request: Request, exc: Exception) -> JSONResponse:
        logger.error("unexpected failure on %s", request.url.path, exc_info=exc)
        body = {"error": f"unexpected error ({type(exc).__name__}); it has been logged"}
        return JSONResponse(body, status_code=500)

    register_pages(app, answerer, settings)
    token = settings.api_token.get_secret_value().strip() if settings.api_token else None
    app.add_middleware(
        Guard,
        token=token,
        rate_limit=settings.rate_limit,
        max_body=settings.max_request_bytes,
        clock=clock,
    )
    return app


def invalid_request(exc: RequestValidationError) -> str:
    """Describe what is wrong with a request in one line, naming the fields."""
    problems = []
    for error in exc.errors():
        where = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append(f"{'.'.join(where)}: {message}" if where else message)
    return "invalid request: " + "; ".join(problems)
