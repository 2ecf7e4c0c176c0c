"""`civicline simulate call` plays whole calls against a live gateway on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.cli import cli
from gateway.settings import Settings
from gateway.store import schema
from tests.conftest import TEST_TOKEN, GatewayHarness, make_harness
from tests.live import LiveServer


@pytest.fixture
def live(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, GatewayHarness]]:
    gateway = make_harness(settings)
    # The simulator reads its settings from the environment, like the real command.
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TEST_TOKEN)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    with LiveServer(gateway.client.client.application) as server:
        yield server.url, gateway


def simulate(url: str, caller: str, keys: str) -> str:
    result = CliRunner().invoke(
        cli, ["simulate", "call", "--from", caller, "--url", url, "--keys", keys]
    )
    assert result.exit_code == 0, result.output
    return result.output


def answers(gateway: GatewayHarness, caller_language: str) -> dict[str, tuple[str, str | None]]:
    with gateway.services.store.engine.connect() as conn:
        rows = conn.execute(
            select(schema.events).where(schema.events.c.language == caller_language)
            .order_by(schema.events.c.seq)
        )
        return {r.question_id: (r.status, r.value) for r in rows}


def test_simulated_calls_complete_the_consultation_in_both_languages(
    live: tuple[str, GatewayHarness],
) -> None:
    url, gateway = live
    english = simulate(url, "+254712345678", "1,1,1,*,4,#,2")
    lines = english.splitlines()
    assert lines[1:3] == ["< [en-GB] For English, press 1.", "< [sw-KE] Kwa Kiswahili, bonyeza 2."]
    assert "> 1" in lines
    assert "< [en-GB] You chose Water points." in lines
    assert lines.count("< [en-GB] How satisfied are you with water services?") == 2  # star
    assert "  (beep: recording; # finishes, silence records nothing)" in lines
    assert "< [en-GB] Thank you. Your comment was recorded." in lines
    assert lines[-4:] == [
        "< [en-GB] Thank you for your voice.",
        "< [en-GB] Goodbye.",
        "(the gateway hangs up)",
        "(call completed)",
    ]
    recorded = answers(gateway, "en")
    assert {q: v for q, v in recorded.items() if q != "comment"} == {
        "priority": ("answered", "water"),
        "enough": ("answered", "yes"),
        "satisfaction": ("answered", "4"),
        "age_band": ("answered", "18_34"),
    }
    status, value = recorded["comment"]
    assert status == "answered" and value.startswith("https://api.twilio.com/2010-04-01/")

    swahili = simulate(url, "+254722000111", "2,3,2,,,,0,0")
    lines = swahili.splitlines()
    assert "< [sw-KE] Umechagua Zahanati." in lines
    assert lines.count("< [sw-KE] Hatukusikia kitufe chochote.") == 3
    assert lines[-4:] == [
        "< [sw-KE] Asante kwa sauti yako.",
        "< [sw-KE] Kwaheri.",
        "(the gateway hangs up)",
        "(call completed)",
    ]
    assert answers(gateway, "sw") == {
        "priority": ("answered", "clinics"),
        "enough": ("answered", "no"),
        "satisfaction": ("no_answer", None),
        "comment": ("skipped", None),
        "age_band": ("skipped", None),
    }
    with gateway.services.store.engine.connect() as conn:
        calls = conn.execute(select(schema.calls.c.status, schema.calls.c.ended_at)).all()
    assert [c.status for c in calls] == ["finished", "finished"]
    assert all(c.ended_at is not None for c in calls)  # the status callback was sent


def test_keys_running_out_hang_up_midway(live: tuple[str, GatewayHarness]) -> None:
    url, gateway = live
    output = simulate(url, "+254712345678", "1,2")
    assert output.splitlines()[-2:] == ["(no more keys: the caller hangs up)", "(call completed)"]
    assert answers(gateway, "en") == {"priority": ("answered", "roads")}
    with gateway.services.store.engine.connect() as conn:
        assert conn.execute(select(schema.calls.c.status)).scalar_one() == "ended"


def test_unreachable_gateway_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TEST_TOKEN)
    result = CliRunner().invoke(
        cli, ["simulate", "call", "--from", "+254712345678", "--url", "http://127.0.0.1:1",
              "--keys", "1"]
    )
    assert result.exit_code == 1
    assert "cannot reach the gateway at http://127.0.0.1:1" in result.output
