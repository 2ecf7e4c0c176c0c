"""A gateway with CENTRAL_URL reads its consultations from the local store; that read must
not happen inside a webhook's write transaction, where it would wait for that very
transaction's lock (found by tests/faults: webhooks stalled until gunicorn killed them)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from gateway.app import build_services, create_app
from gateway.application.catalog_source import CentralCatalog
from gateway.settings import Settings
from gateway.store.sync_state import SyncStateStore
from tests.channels.voice_calls import Call
from tests.conftest import RecordingTrigger
from tests.twilio_signing import TwilioClient

BOUND = 10.0  # seconds; a webhook takes milliseconds


def within_bound(action: Callable[[], object]) -> object:
    """Run `action` in a thread; fail (rather than hang) if it does not end in time."""
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(action()), daemon=True)
    thread.start()
    thread.join(BOUND)
    assert not thread.is_alive(), f"a webhook did not finish within {BOUND:g} s"
    return outcome[0]


def test_webhooks_refreshing_the_catalog_do_not_wait_for_themselves(
    settings: Settings,
) -> None:
    configured = settings.with_overrides(central_url="http://127.0.0.1:1",
                                         central_token="t" * 43)
    services = build_services(configured, trigger=RecordingTrigger())
    # Check the local cache on every request, as a busy gateway does every 2 s.
    services.catalog = CentralCatalog(SyncStateStore(services.store.engine),
                                      configured.flows_dir, check_every=0.0)
    client = TwilioClient(create_app(services=services).test_client(),
                          configured.twilio_auth_token)
    for body, expected in (("WATER", "What should the county fix first?"),
                           ("1", "Do you have enough water at home?")):
        result = within_bound(lambda body=body: client.sms("+254712345678", body))
        assert expected in result.reply  # type: ignore[attr-defined]
    call = Call(client, caller="+254712345679")
    within_bound(call.start)
    answered = within_bound(lambda: call.press("1"))
    assert "What should the county fix first?" in answered.text  # type: ignore[attr-defined]
    services.store.engine.dispose()
