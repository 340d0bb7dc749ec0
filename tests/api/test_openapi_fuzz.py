"""Schemathesis over the OpenAPI document: no input, however odd, makes the service answer 5xx.

Runs with the admin key (every route is reachable) against a database of
its own holding the small district, since the fuzzer writes: it moves
workers, files events, merges them. Left out: the live feed (an endless
stream) and starting a partition job (minutes of CPU on a background
thread per example). The number of examples per operation is bounded so
that the run stays near a minute.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans

from api.main import create_app
from api.settings import ApiSettings
from tests.api.conftest import fresh_database

EXAMPLES = 25


@pytest.fixture(scope="module")
def fuzz_app(cluster, api_settings: ApiSettings):
    """The service on a database of its own."""
    app = create_app(api_settings, fresh_database(cluster, "api_fuzz"))
    yield app
    shutdown_lifespans()


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_app) -> Iterator[schemathesis.BaseSchema]:
    """The app's own OpenAPI document."""
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


#: examples of an operation that takes no input at all: the fuzzer can only call it again the same way
NO_INPUT_EXAMPLES = 3
#: (method, path) of the operations that take no parameter and no body, filled by :func:`_operations`
_NO_INPUT: set[tuple[str, str]] = set()


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation the fuzzer covers (the document needs no store to be built)."""
    document = create_app(ApiSettings()).openapi()
    skipped = {("GET", "/stream"), ("POST", "/partition/jobs")}
    ops = [(method.upper(), path, spec) for path, item in document["paths"].items() for method, spec in item.items()
           if (method.upper(), path) not in skipped]
    _NO_INPUT.update((m, p) for m, p, spec in ops if not spec.get("parameters") and not spec.get("requestBody"))
    return [(m, p) for m, p, _ in ops]


# schemathesis' own pytest loader reads a pytest attribute pytest 9 no longer has, so the
# operations are parametrized here and each one's strategy is driven by hypothesis directly
@pytest.mark.parametrize(("method", "path"), _operations())
def test_no_input_makes_a_server_error(fuzz_schema, keys, method, path):
    operation = fuzz_schema[path][method]
    examples = NO_INPUT_EXAMPLES if (method, path) in _NO_INPUT else EXAMPLES

    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call(headers={"X-API-Key": keys["admin"]})
        case.validate_response(response, checks=[not_a_server_error])

    run()
