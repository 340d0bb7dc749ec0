"""The request log's one rule: a line per request, and never a key."""

from __future__ import annotations

import logging

from gridwall.requestlog import WsgiAccessLog, redact_query, request_line


def test_secret_query_values_are_replaced_and_the_rest_kept_in_order():
    assert redact_query("api_key=abc&limit=10&KEY=x&token=t&q=%E4%B8%AD") == \
        "api_key=***&limit=10&KEY=***&token=***&q=%E4%B8%AD"
    assert redact_query("limit=10&bbox=1,2,3,4") == "limit=10&bbox=1,2,3,4"  # untouched when nothing is secret
    assert redact_query("") == ""


def test_a_line_holds_method_path_status_duration_bytes_and_who():
    assert request_line("GET", "/layers/events", "api_key=s3cret", 200, 0.0123, 5120, "admin:ops") == \
        "GET /layers/events?api_key=*** 200 12.3ms 5120B admin:ops"
    assert request_line("POST", "/events", "", 201, 0.5, 0, None) == "POST /events 201 500.0ms 0B -"


def test_the_wsgi_log_writes_one_line_when_the_answer_is_closed(caplog):
    def app(environ, start_response):
        environ["who"] = "li"
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"abc", b"de"]

    wrapped = WsgiAccessLog(app, actor_key="who")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/live", "QUERY_STRING": "key=s3cret",
               "HTTP_X_API_KEY": "s3cret", "HTTP_COOKIE": "gridwall_session=s3cret"}
    with caplog.at_level(logging.INFO, logger="gridwall.access"):
        body = wrapped(environ, lambda status, headers, exc_info=None: None)
        assert b"".join(body) == b"abcde" and caplog.records == []  # not before the server closes it
        body.close()
    assert [r.getMessage() for r in caplog.records] == [caplog.records[0].getMessage()]
    message = caplog.records[0].getMessage()
    assert message.startswith("GET /live?key=*** 200 ") and message.endswith(" 5B li") and "s3cret" not in message
