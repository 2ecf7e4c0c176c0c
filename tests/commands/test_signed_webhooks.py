"""Webhooks the simulator posts carry Twilio's signature, over the URL Twilio would call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

from gateway.commands.signed_webhooks import signed_post
from gateway.settings import Settings
from tests.conftest import TEST_TOKEN
from tests.live import LiveServer, free_port

PUBLIC = "https://ivr.example.org"


def settings_for(tmp_path: Path, public_base_url: str = "") -> Settings:
    return Settings(twilio_auth_token=TEST_TOKEN, public_base_url=public_base_url,
                    database_url=f"sqlite:///{tmp_path / 'g.db'}",
                    central_database_url=f"sqlite:///{tmp_path / 'c.db'}")


@pytest.fixture
def checking() -> Iterator[str]:
    """A server that answers whether the signature holds over PUBLIC's URL or its own."""
    app = Flask(__name__)
    validator = RequestValidator(TEST_TOKEN)

    @app.post("/twilio/sms")
    def sms() -> Response:
        signature = request.headers.get("X-Twilio-Signature", "")
        form = request.form.to_dict()
        over = [name for name, url in (("public", PUBLIC + "/twilio/sms"),
                                       ("direct", request.url))
                if validator.validate(url, form, signature)]
        return Response(",".join(over) or "none", status=200 if over else 403)

    with LiveServer(app) as server:
        yield server.url


def test_signed_over_the_url_twilio_calls(checking: str, tmp_path: Path) -> None:
    params = {"MessageSid": "SM" + "0" * 32, "Body": "WATER"}
    assert signed_post(settings_for(tmp_path), checking, "/twilio/sms", params) == "direct"
    behind_a_proxy = settings_for(tmp_path, public_base_url=PUBLIC)
    assert signed_post(behind_a_proxy, checking, "/twilio/sms", params) == "public"


def test_a_refusal_or_no_gateway_is_a_clear_error(checking: str, tmp_path: Path) -> None:
    wrong = settings_for(tmp_path).with_overrides(twilio_auth_token="another-token-0123456789")
    with pytest.raises(click.ClickException, match="gateway answered 403: none"):
        signed_post(wrong, checking, "/twilio/sms", {"Body": "1"})
    nobody = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(click.ClickException, match=f"cannot reach the gateway at {nobody}"):
        signed_post(settings_for(tmp_path), nobody, "/twilio/sms", {"Body": "1"})
