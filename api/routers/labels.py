"""The domain labels (states, channels, statuses, kinds, audit actions) for clients that show them.

Why served: the wall and the console say "上报 → 派遣", not ``reported →
dispatched``, and must not keep a copy of the table that drifts from the
store's vocabularies (:mod:`api.labels`). Without ``lang`` the request's
``Accept-Language`` decides (Chinese unless English is preferred).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from api.deps import Reader
from api.labels import labels
from api.messages import language

__all__ = ["router"]

router = APIRouter(tags=["labels"])


@router.get("/labels", summary="Labels of every state, channel, status, kind and audit action")
def get_labels(request: Request, response: Response, user: Reader,
               lang: Annotated[Literal["zh", "en"] | None, Query(description="zh or en")] = None
               ) -> dict[str, dict[str, str]]:
    """``{"states": {"reported": "上报", …}, "channels": {…}, …}`` in one language."""
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Vary"] = "Accept-Language"
    return labels(lang or language(request.scope))
