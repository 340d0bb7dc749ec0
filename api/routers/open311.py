"""Open311 GeoReport v2 (JSON): services, service definitions, filing and following requests.

See :mod:`api.open311` for how services and requests map onto the taxonomy
and the register. ``POST requests.json`` takes the standard form-encoded
body (JSON is accepted too), with the key in ``api_key`` as the spec has it
or in the usual header.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.deps import ConnDep, Lang, Open311Client, TxDep
from api.open311 import RequestFilter, RequestIn, file_request, one_request, requests, service_definition, services

__all__ = ["router"]

router = APIRouter(prefix="/open311/v2", tags=["open311"])

ServiceCode = Annotated[str, Path(min_length=1, max_length=50, pattern=r"^[0-9A-Za-z_-]+$")]
RequestCode = Annotated[str, Path(min_length=1, max_length=60, pattern=r"^[0-9A-Za-z_-]+$")]
_FORM = "application/x-www-form-urlencoded"


async def _raw_body(request: Request) -> dict:
    """The form (or JSON) body as a dict; its ``api_key`` is offered to the key check that follows."""
    raw = await request.body()
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            data = json.loads(raw or b"{}")
            if not isinstance(data, dict):
                raise ValueError("the body is not a JSON object")
        else:
            data = {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=False).items()}
            data.update({k[len("attribute["):-1]: v for k, v in list(data.items())
                         if k.startswith("attribute[") and k.endswith("]")})
    except (ValueError, UnicodeDecodeError) as exc:
        problem = {"loc": ("body",), "msg": f"unreadable body: {exc}", "type": "value_error"}
        raise RequestValidationError([problem]) from exc
    key = data.get("api_key")
    request.state.form_api_key = key if isinstance(key, str) else None
    return data


def _request_body(data: Annotated[dict, Depends(_raw_body)], user: Open311Client) -> RequestIn:
    """The body validated as a RequestIn — after the key was checked, so a stranger learns nothing from a 422."""
    try:
        return RequestIn.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from exc


_BODY_DOC = {"requestBody": {"required": True, "content": {
    _FORM: {"schema": RequestIn.model_json_schema()}, "application/json": {"schema": RequestIn.model_json_schema()},
}}}


@router.get("/services.json", summary="Service list (the leaf classes)")
def list_services(conn: ConnDep, user: Open311Client) -> list[dict]:
    """Every leaf class, its top class as ``group``."""
    return services(conn)


@router.get("/services/{service_code}.json", summary="Service definition")
def get_service(service_code: ServiceCode, conn: ConnDep, user: Open311Client) -> dict:
    """No extra attributes are asked for any service."""
    return service_definition(conn, service_code)


@router.post("/requests.json", status_code=201, openapi_extra=_BODY_DOC, summary="File a service request")
def post_request(body: Annotated[RequestIn, Depends(_request_body)], tx: TxDep, user: Open311Client,
                 lang: Lang) -> list[dict]:
    """Register the request as a hotline event; answers its ``service_request_id`` and a notice in ``lang``."""
    return file_request(tx, body, user, lang)


@router.get("/requests.json", summary="Service requests")
def get_requests(conn: ConnDep, user: Open311Client, lang: Lang,
                 service_request_id: Annotated[str | None, Query(max_length=2000)] = None,
                 service_code: Annotated[str | None, Query(max_length=2000)] = None,
                 start_date: datetime | None = None, end_date: datetime | None = None,
                 status: Annotated[str | None, Query(max_length=20)] = None) -> list[dict]:
    """Newest first, at most 1000; ids and codes comma-separated, status ``open`` or ``closed``."""
    query = RequestFilter(service_request_id=[service_request_id or ""], service_code=[service_code or ""],
                          start_date=start_date, end_date=end_date, status=[status or ""])
    return requests(conn, query, user, lang=lang)


@router.get("/requests/{service_request_id}.json", summary="One service request")
def get_request(service_request_id: RequestCode, conn: ConnDep, user: Open311Client, lang: Lang) -> list[dict]:
    """A list of one, as GeoReport v2 has it."""
    return one_request(conn, service_request_id, user, lang)
