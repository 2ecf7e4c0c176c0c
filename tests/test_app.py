"""create_app(): what every request goes through."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from gateway.store import log_sync
from tests.conftest import GatewayHarness


def test_an_answer_leaves_only_once_its_commit_is_synced(
    gateway: GatewayHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log's sync waits until Flask has built the response (its writeback runs
    meanwhile), and is made before the response goes back to the server."""
    app = gateway.client.client.application
    steps: list[str] = []
    real_sync = log_sync.sync_data

    def sync(fd: int) -> None:
        real_sync(fd)
        steps.append("synced")

    monkeypatch.setattr(log_sync, "sync_data", sync)
    app.after_request(lambda response: (steps.append("response built"), response)[1])
    inner = app.wsgi_app

    def returned(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = inner(environ, start_response)
        steps.append("returned to the server")
        return body

    app.wsgi_app = returned  # type: ignore[method-assign]
    assert gateway.client.sms("+254712345678", "WATER").reply.startswith("Water services")
    assert steps == ["response built", "synced", "returned to the server"]


def test_an_answer_whose_sync_fails_is_not_sent(
    gateway: GatewayHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(log_sync, "sync_data", failing)
    with pytest.raises(OSError, match="Input/output error"):  # the server answers 500
        gateway.client.sms("+254712345678", "WATER")
