"""`civicline sync --once` as a real process, against `civicline central serve`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.live import CIVICLINE, cli_env, settings_env, wait_until
from tests.loopback_centre import Centre, Gateway, take_part


def test_cli_sync_once_against_a_central_server_process(
    database_url: str, centre: Centre, remote_gateway: Gateway, tmp_path: Path
) -> None:
    """`civicline central serve` and `civicline sync --once` as real processes."""
    from tests.live import free_port

    for n in range(4):
        take_part(remote_gateway.client, n)
    port = free_port()
    env = cli_env(settings_env(central_database_url=centre.settings.central_database_url))
    server = subprocess.Popen(
        [CIVICLINE, "central", "serve", "--port", str(port), "--workers", "1"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        import requests

        def up() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok
            except requests.RequestException:
                return False

        wait_until(up, timeout=30)
        settings = remote_gateway.services.settings
        gateway_env = cli_env(settings_env(
            database_url=settings.database_url, central_url=f"http://127.0.0.1:{port}",
            central_token=settings.central_token, gateway_id="gw-a",
            pseudonym_key=settings.pseudonym_key,
        ))
        done = subprocess.run([CIVICLINE, "sync", "--once"], env=gateway_env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "synced 20 events (20 new, 0 already known); 0 waiting" in done.stdout
        assert centre.total() == 20
    finally:
        server.terminate()
        server.wait(20)
        server.stderr.close()  # type: ignore[union-attr]
