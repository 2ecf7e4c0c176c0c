"""Gateways and their tokens at the centre: issued by `civicline central add-gateway`,
kept only as hashes, rotated on request."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from click.testing import CliRunner
from sqlalchemy import select

from gateway.central.store import schema
from gateway.central.store.central_store import CentralStore
from gateway.cli import cli


def test_add_gateway_prints_the_token_once_and_keeps_its_hash(
    central_database_url: str, store: CentralStore
) -> None:
    runner = CliRunner()
    env = {"CENTRAL_DATABASE_URL": central_database_url}
    result = runner.invoke(cli, ["central", "add-gateway", "kisumu-1"], env=env)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert len(token) >= 40
    assert "shown only now" in result.stderr
    with store.engine.connect() as conn:
        stored_hash = conn.execute(
            select(schema.gateways.c.token_hash).where(schema.gateways.c.name == "kisumu-1")
        ).scalar_one()
    assert stored_hash == hashlib.sha256(token.encode()).hexdigest()
    assert store.authenticate(token) == "kisumu-1"

    again = runner.invoke(cli, ["central", "add-gateway", "kisumu-1"], env=env)
    assert again.exit_code == 1
    assert "--rotate" in again.output
    rotated = runner.invoke(cli, ["central", "add-gateway", "kisumu-1", "--rotate"], env=env)
    assert rotated.exit_code == 0
    assert store.authenticate(token) is None
    assert store.authenticate(rotated.stdout.strip()) == "kisumu-1"
    bad = runner.invoke(cli, ["central", "add-gateway", "no spaces"], env=env)
    assert bad.exit_code == 1



def test_tokens_are_kept_only_as_hashes(store: CentralStore) -> None:
    token = store.add_gateway("gw-1", datetime.now(UTC))
    with store.engine.connect() as conn:
        stored = conn.execute(select(schema.gateways)).one()
    assert token not in [str(value) for value in stored]
    assert len(stored.token_hash) == 64
