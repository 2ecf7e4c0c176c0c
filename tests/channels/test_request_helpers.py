"""The channels' request helpers: required fields, numbers from action URLs, TwiML."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.exceptions import BadRequest

from gateway.channels.request_helpers import query_number, required_field, twiml


@pytest.fixture
def app() -> Flask:
    return Flask(__name__)


def test_a_required_field_is_there_and_not_blank(app: Flask) -> None:
    with app.test_request_context(method="POST", data={"From": " +254712345678 ", "To": " "}):
        assert required_field("From") == "+254712345678"
        for missing in ("To", "Body"):
            with pytest.raises(BadRequest, match=f"missing required field {missing}"):
                required_field(missing)


@pytest.mark.parametrize(("query", "expected"), [
    ("n=0", 0), ("n=42", 42), ("n=2147483647", 2147483647),
    ("", None), ("n=", None), ("n=-1", None), ("n=1.5", None), ("n=%D9%A3", None),
    ("n=2147483648", None), ("n=00000000000001", None),
])
def test_a_number_from_an_action_url_is_whole_and_storable(
    app: Flask, query: str, expected: int | None
) -> None:
    with app.test_request_context(f"/twilio/voice/step?{query}"):
        assert query_number("n") == expected


def test_twiml_is_a_200_in_xml() -> None:
    response = twiml("<Response/>")
    assert (response.status_code, response.mimetype) == (200, "text/xml")
    assert response.get_data(as_text=True) == "<Response/>"
