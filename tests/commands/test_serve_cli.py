"""The long-running commands refuse to start on unsafe settings, the web servers'
access logs carry no query strings (they may hold phone numbers), and `simulate` signs
with the token `serve` generated."""

from __future__ import annotations

import signal
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from twilio.request_validator import RequestValidator

from gateway.settings import PUBLISHED_SECRETS
from tests.conftest import FIXTURE_FLOWS
from tests.live import CIVICLINE, cli_env, free_port, wait_until

COMMANDS = [["serve"], ["central", "serve"], ["worker"], ["sync", "--once"]]
REAL_SECRETS = {"TWILIO_AUTH_TOKEN": "t" * 32, "PSEUDONYM_KEY": "p" * 32, "SECRET_KEY": "s" * 32}


def clean_env(tmp_path: Path) -> dict[str, str]:
    """Ours, minus any CivicLine setting or secret, with databases in `tmp_path`."""
    env = cli_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}",
                   "CENTRAL_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
                   "FLOWS_DIR": str(FIXTURE_FLOWS)})
    for name in ("CIVICLINE_ENV", "PUBLIC_BASE_URL", *REAL_SECRETS):
        env.pop(name, None)
    return env


def refused(args: list[str], env: dict[str, str], tmp_path: Path) -> str:
    """Run a command that must exit at once, before serving; its error message."""
    env = {**clean_env(tmp_path), **env}
    port = ["--port", str(free_port())] if "serve" in args else []
    done = subprocess.run([CIVICLINE, *args, *port], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    return done.stderr


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_production_refuses_default_secrets(args: list[str], tmp_path: Path) -> None:
    stderr = refused(args, {"CIVICLINE_ENV": "production"}, tmp_path)
    assert stderr.strip().endswith(
        "civicline: configuration error: production mode needs real secrets; set "
        "TWILIO_AUTH_TOKEN, PSEUDONYM_KEY, SECRET_KEY")


@pytest.mark.parametrize("args", COMMANDS[::2], ids=" ".join)
def test_central_url_without_its_token_is_refused(args: list[str], tmp_path: Path) -> None:
    stderr = refused(args, {"CENTRAL_URL": "https://central.example.org"}, tmp_path)
    assert "configuration error: CENTRAL_URL is set but CENTRAL_TOKEN is not" in stderr


@pytest.mark.parametrize("args", COMMANDS[::2], ids=" ".join)
def test_central_url_without_a_pseudonym_key_is_refused(args: list[str], tmp_path: Path) -> None:
    env = {"CENTRAL_URL": "https://central.example.org", "CENTRAL_TOKEN": "x" * 43,
           "DATA_DIR": str(tmp_path / "data")}
    stderr = refused(args, env, tmp_path)
    assert "configuration error: CENTRAL_URL is set but PSEUDONYM_KEY is not: every gateway " \
        "syncing to one centre must use the same PSEUDONYM_KEY" in stderr
    assert not (tmp_path / "data").exists()


def test_production_sends_the_token_only_over_https(tmp_path: Path) -> None:
    env = {"CIVICLINE_ENV": "production", **REAL_SECRETS,
           "CENTRAL_URL": "http://central.example.org", "CENTRAL_TOKEN": "x" * 43}
    stderr = refused(["serve"], env, tmp_path)
    assert "production mode needs CENTRAL_URL over https (got http://central.example.org)" \
        in stderr


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[str]:
    """`civicline serve` (one worker) with `env`, output to `log`, until the block ends;
    yields its URL once /healthz answers."""
    port = free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen([CIVICLINE, "serve", "--port", str(port), "--workers", "1"],
                                   env={**env, "PYTHONUNBUFFERED": "1"}, stdout=out,
                                   stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"

            def up() -> bool:
                assert process.poll() is None, log.read_text()
                try:
                    return requests.get(f"{url}/healthz", timeout=2).status_code == 200
                except requests.RequestException:
                    return False

            wait_until(up, timeout=60, interval=0.2)
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def test_access_log_has_no_query_strings(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with serving(clean_env(tmp_path), log) as url:
        # A Twilio number misconfigured to use GET: the parameters are in the URL.
        response = requests.get(f"{url}/twilio/sms?From=%2B254712345678&Body=WATER",
                                timeout=10)
        assert response.status_code == 405
    text = log.read_text()
    assert '"GET /twilio/sms" 405' in text
    assert "254712345678" not in text and "Body=" not in text


def test_simulate_signs_with_the_token_serve_generated(tmp_path: Path) -> None:
    """No TWILIO_AUTH_TOKEN: `serve` generates one in DATA_DIR and `simulate`, started
    from the same settings, signs with it; the token once published opens nothing."""
    env = {**clean_env(tmp_path), "DATA_DIR": str(tmp_path / "data")}
    log = tmp_path / "serve.log"
    with serving(env, log) as url:
        done = subprocess.run(
            [CIVICLINE, "simulate", "sms", "--from", "+254712345678", "--url", url, "WATER", "1"],
            env=env, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, (done.stdout, done.stderr)
        lines = done.stdout.splitlines()
        assert lines[0] == "> WATER"
        assert lines[1].startswith("< Water services: 5 short questions.")
        assert lines[3].startswith("< Do you have enough water at home?")
        assert "generated" not in done.stderr  # read, not made again

        params = {"MessageSid": "SM" + "0" * 32, "AccountSid": "AC" + "0" * 32,
                  "From": "+254712345678", "To": "+254700000001", "Body": "STOP"}
        published = RequestValidator(PUBLISHED_SECRETS["TWILIO_AUTH_TOKEN"])
        forged = requests.post(f"{url}/twilio/sms", data=params, timeout=10, headers={
            "X-Twilio-Signature": published.compute_signature(f"{url}/twilio/sms", params)})
        assert forged.status_code == 403
    secrets_file = tmp_path / "data" / "secrets.env"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    text = log.read_text()
    assert f"data: {tmp_path / 'data'} (secrets.env, prepared exports)" in text
    assert text.count(f"generated TWILIO_AUTH_TOKEN, PSEUDONYM_KEY and SECRET_KEY for this "
                      f"installation in {secrets_file}") == 1


def test_gateway_and_centre_on_one_host_keep_off_a_shared_control_socket(
    tmp_path: Path,
) -> None:
    """gunicorn's default control socket is one per user (~/.gunicorn/gunicorn.ctl):
    a second server on the host would take it from the first. None of ours opens it."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**clean_env(tmp_path), "HOME": str(home), "DATA_DIR": str(tmp_path / "data")}
    env.pop("XDG_RUNTIME_DIR", None)
    centre_port = free_port()
    with open(tmp_path / "central.log", "wb") as out:
        centre = subprocess.Popen(
            [CIVICLINE, "central", "serve", "--port", str(centre_port), "--workers", "1"],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        with serving(env, tmp_path / "serve.log") as url:

            def centre_up() -> bool:
                assert centre.poll() is None, (tmp_path / "central.log").read_text()
                try:
                    return requests.get(f"http://127.0.0.1:{centre_port}/healthz",
                                        timeout=2).status_code == 200
                except requests.RequestException:
                    return False

            wait_until(centre_up, timeout=60, interval=0.2)
            assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
            assert not (home / ".gunicorn").exists()
    finally:
        centre.send_signal(signal.SIGTERM)
        centre.wait(30)
    for log in ("central.log", "serve.log"):
        assert "control socket" not in (tmp_path / log).read_text().lower()


def test_the_procfile_web_process_opens_no_control_socket() -> None:
    from gunicorn.config import Config

    settings: dict[str, object] = {}
    conf = Path(__file__).resolve().parents[2] / "config" / "gunicorn.conf.py"
    exec(compile(conf.read_text(), str(conf), "exec"), settings)  # as gunicorn reads it
    config = Config()
    for name, value in settings.items():
        if name in config.settings:
            config.set(name, value)
    assert config.control_socket_disable is True


def test_serve_says_where_its_data_lives(tmp_path: Path) -> None:
    env = {**clean_env(tmp_path), "DATA_DIR": str(tmp_path / "data"),
           "CENTRAL_DATABASE_URL": "postgresql://civicline:hunter2@db.example.org/central"}
    env.pop("DATABASE_URL")
    log = tmp_path / "serve.log"
    with pytest.raises(AssertionError):  # the centre's database is unreachable: it stops
        with serving(env, log):
            pass
    text = log.read_text()
    assert f"data: {tmp_path / 'data'} (secrets.env, prepared exports)" in text
    assert f"gateway database: sqlite:///{tmp_path / 'data' / 'civicline.db'}" in text
    assert "central database: postgresql://civicline:***@db.example.org/central" in text
    assert "hunter2" not in text
