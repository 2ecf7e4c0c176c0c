from __future__ import annotations

import json
import logging
import re
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from gateway.settings import PUBLISHED_SECRETS, SECRETS, Settings, SettingsError

REPO = Path(__file__).resolve().parents[1]


def test_defaults_without_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The default data directory, here in tmp_path rather than the checkout's instance/.
    monkeypatch.setattr("gateway.settings.default_data_dir", lambda: tmp_path / "instance")
    settings = Settings.from_env({})
    assert settings.data_dir == tmp_path / "instance"
    assert settings.database_url == f"sqlite:///{tmp_path}/instance/civicline.db"
    assert settings.central_database_url == f"sqlite:///{tmp_path}/instance/central.db"
    assert settings.redis_url == ""
    assert settings.flows_dir == Path("ivr_flows")
    assert not settings.production
    assert settings.generated_secrets == set(SECRETS)
    assert (tmp_path / "instance" / "secrets.env").is_file()
    assert any("TWILIO_AUTH_TOKEN is not set" in w for w in settings.warnings())


def test_the_default_data_directory_is_flasks_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not relative to the working directory: every command finds the same files
    wherever it is started."""
    from gateway.settings import default_data_dir

    expected = Path(Flask("gateway").instance_path)
    monkeypatch.chdir(tmp_path)
    here = default_data_dir()
    monkeypatch.chdir(REPO)
    assert default_data_dir() == here == expected and here.is_absolute()
    monkeypatch.chdir(tmp_path)
    given = {name: "x" * 32 for name in SECRETS}  # no secrets file to make
    settings = Settings.from_env(given)
    assert settings.data_dir == expected
    assert settings.database_url == f"sqlite:///{expected / 'civicline.db'}"
    assert settings.central_database_url == f"sqlite:///{expected / 'central.db'}"
    assert Settings(**{a: "x" * 32 for a in SECRETS.values()}).data_dir == expected
    assert list(tmp_path.iterdir()) == []


def test_data_dir_holds_the_default_databases(tmp_path: Path) -> None:
    settings = Settings.from_env({"DATA_DIR": str(tmp_path / "data")})
    assert settings.data_dir == tmp_path / "data"
    assert settings.database_url == f"sqlite:///{tmp_path}/data/civicline.db"
    assert settings.central_database_url == f"sqlite:///{tmp_path}/data/central.db"
    explicit = Settings.from_env({"DATA_DIR": str(tmp_path), "DATABASE_URL": "sqlite:///g.db"})
    assert explicit.database_url == "sqlite:///g.db"


def test_values_are_converted(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "DATA_DIR": str(tmp_path),
            "REPLIES_PER_HOUR": "7",
            "SIGNATURE_CHECKS": "off",
            "SYNC_INTERVAL": "2.5",
            "FLOWS_DIR": "/srv/flows",
            "TTS_VOICES": "en=Polly.Amy, sw=Google.sw-KE-Standard-A",
        }
    )
    assert settings.replies_per_hour == 7
    assert settings.signature_checks is False
    assert settings.sync_interval == 2.5
    assert settings.flows_dir == Path("/srv/flows")
    assert settings.tts_voices == {"en": "Polly.Amy", "sw": "Google.sw-KE-Standard-A"}
    assert any("SIGNATURE_CHECKS=off" in w for w in settings.warnings())


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REPLIES_PER_HOUR": "many"}, "REPLIES_PER_HOUR"),
        ({"SIGNATURE_CHECKS": "perhaps"}, "SIGNATURE_CHECKS: expected on/off"),
        ({"TTS_VOICES": "en"}, "TTS_VOICES: expected key=value"),
        ({"SQLITE_SYNCHRONOUS": "OFF"}, "SQLITE_SYNCHRONOUS must be"),
    ],
)
def test_malformed_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_production_refuses_default_secrets(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TWILIO_AUTH_TOKEN, PSEUDONYM_KEY, SECRET_KEY"):
        Settings.from_env({"CIVICLINE_ENV": "production", "DATA_DIR": str(tmp_path)})
    with pytest.raises(SettingsError, match="set SECRET_KEY$"):
        Settings.from_env({"CIVICLINE_ENV": "production", "DATA_DIR": str(tmp_path),
                           "TWILIO_AUTH_TOKEN": "t" * 32, "PSEUDONYM_KEY": "p" * 32})
    assert list(tmp_path.iterdir()) == []  # production never generates secrets


def test_production_with_real_secrets() -> None:
    env = {
        "CIVICLINE_ENV": "production",
        "TWILIO_AUTH_TOKEN": "a" * 32,
        "PSEUDONYM_KEY": "b" * 32,
        "SECRET_KEY": "c" * 32,
    }
    assert Settings.from_env(env).production
    with pytest.raises(SettingsError, match="SIGNATURE_CHECKS=off"):
        Settings.from_env({**env, "SIGNATURE_CHECKS": "off"})
    with pytest.raises(SettingsError, match="at least 16"):
        Settings.from_env({**env, "PSEUDONYM_KEY": "short"})


@pytest.mark.parametrize("url", ["api.twilio.com", "ftp://api.twilio.com",
                                 "https://api.twilio.com/2010-04-01", "https://"])
def test_the_twilio_api_url_is_a_scheme_and_a_host(url: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TWILIO_API_URL must be a scheme and host"):
        Settings.from_env({"DATA_DIR": str(tmp_path), "TWILIO_API_URL": url})


def test_production_sends_twilio_credentials_in_clear_only_on_loopback() -> None:
    env = {"CIVICLINE_ENV": "production", "TWILIO_AUTH_TOKEN": "a" * 32,
           "PSEUDONYM_KEY": "b" * 32, "SECRET_KEY": "c" * 32}
    with pytest.raises(SettingsError, match="TWILIO_API_URL over https"):
        Settings.from_env({**env, "TWILIO_API_URL": "http://twilio.example.org"})
    local = Settings.from_env({**env, "TWILIO_API_URL": "http://127.0.0.1:8765"})
    assert local.twilio_api_url == "http://127.0.0.1:8765"
    assert Settings.from_env(env).twilio_api_url == "https://api.twilio.com"


# --- secrets generated per installation ---------------------------------------------------


def generation_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "gateway.settings"]


def test_first_start_generates_the_secrets_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.settings")
    env = {"DATA_DIR": str(tmp_path / "data")}
    first = Settings.from_env(env)
    path = tmp_path / "data" / "secrets.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [created] = generation_logs(caplog)
    assert str(path) in created
    values = [first.twilio_auth_token, first.pseudonym_key, first.secret_key]
    assert len(set(values)) == 3 and all(len(v) >= 43 for v in values)
    assert not set(values) & set(PUBLISHED_SECRETS.values())
    assert sorted(p.name for p in path.parent.iterdir()) == ["secrets.env"]  # no temporary

    caplog.clear()
    second = Settings.from_env(env)
    assert [second.twilio_auth_token, second.pseudonym_key, second.secret_key] == values
    assert generation_logs(caplog) == []


def test_secrets_set_in_the_environment_win(tmp_path: Path) -> None:
    settings = Settings.from_env({"DATA_DIR": str(tmp_path), "SECRET_KEY": "s" * 32})
    assert settings.secret_key == "s" * 32
    assert settings.generated_secrets == {"TWILIO_AUTH_TOKEN", "PSEUDONYM_KEY"}
    assert "SECRET_KEY=" in (tmp_path / "secrets.env").read_text()  # kept for when unset
    everything = {"DATA_DIR": str(tmp_path / "other"), "TWILIO_AUTH_TOKEN": "t" * 32,
                  "PSEUDONYM_KEY": "p" * 32, "SECRET_KEY": "s" * 32}
    assert Settings.from_env(everything).generated_secrets == frozenset()
    assert not (tmp_path / "other").exists()


RACER = """
import json, sys, time
from gateway.settings import Settings
start = float(sys.argv[2])
while time.time() < start:
    pass
s = Settings.from_env({"DATA_DIR": sys.argv[1]})
print(json.dumps([s.twilio_auth_token, s.pseudonym_key, s.secret_key]))
"""


def test_processes_starting_together_agree(tmp_path: Path) -> None:
    for round_ in range(3):
        data = tmp_path / f"round-{round_}"
        start = time.time() + 2.0  # every process imported and spinning by then
        racers = [
            subprocess.Popen([sys.executable, "-c", RACER, str(data), str(start)], cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(12)
        ]
        outputs = [racer.communicate(timeout=60) for racer in racers]
        assert all(racer.returncode == 0 for racer in racers), outputs
        seen = {tuple(json.loads(out)) for out, _ in outputs}
        assert len(seen) == 1, seen
        stored = dict(
            line.split("=", 1) for line in (data / "secrets.env").read_text().splitlines()
            if not line.startswith("#")
        )
        assert seen.pop() == (stored["TWILIO_AUTH_TOKEN"], stored["PSEUDONYM_KEY"],
                              stored["SECRET_KEY"])
        # Exactly one process made the file and said so; the others read it.
        assert sum("generated TWILIO_AUTH_TOKEN" in err for _, err in outputs) == 1, outputs
        assert sorted(p.name for p in data.iterdir()) == ["secrets.env"]


def test_a_session_signed_with_the_published_key_is_refused(tmp_path: Path) -> None:
    """Without SECRET_KEY, the key is this installation's: a cookie signed with the
    development key once published in the source no longer signs anyone in."""
    from gateway.central.app import create_central_app
    from gateway.central.store.accounts import Accounts
    from gateway.database import make_engine

    central = f"sqlite:///{tmp_path / 'central.db'}"
    settings = Settings.from_env({"DATA_DIR": str(tmp_path), "CENTRAL_DATABASE_URL": central})
    app = create_central_app(settings)
    engine = make_engine(central)
    Accounts(engine).add("root", "correct horse battery", admin=True, now=datetime.now(UTC))
    engine.dispose()

    client = app.test_client()
    page = client.get("/officials/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    client.post("/officials/sign-in", data={
        "username": "root", "password": "correct horse battery", "csrf_token": token.group(1)})
    assert client.get("/officials/").status_code == 200
    genuine = client.get_cookie("session")
    assert genuine is not None

    def signer(key: str) -> URLSafeTimedSerializer:
        flask = Flask("signer")
        flask.secret_key = key
        serializer = SecureCookieSessionInterface().get_signing_serializer(flask)
        assert serializer is not None
        return serializer

    # The signed-in official's own session, signed again with the key once published:
    # refused, so that only the key differs from a cookie that works.
    content = signer(settings.secret_key).loads(genuine.value)
    client.set_cookie("session", signer(PUBLISHED_SECRETS["SECRET_KEY"]).dumps(content))
    response = client.get("/officials/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/officials/sign-in")


@pytest.mark.parametrize("name", list(PUBLISHED_SECRETS))
def test_published_development_values_are_refused(name: str, tmp_path: Path) -> None:
    published = PUBLISHED_SECRETS[name]
    with pytest.raises(SettingsError, match=f"{name} is the development value published"):
        Settings.from_env({"DATA_DIR": str(tmp_path), name: published})
    with pytest.raises(SettingsError, match=f"{name} is the development value published"):
        Settings(**{SECRETS[name]: published}).check()  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match=f"{name} is the development value published"):
        Settings.from_env({"CIVICLINE_ENV": "production", "TWILIO_AUTH_TOKEN": "t" * 32,
                           "PSEUDONYM_KEY": "p" * 32, "SECRET_KEY": "s" * 32,
                           name: published})


def test_central_url_needs_an_explicit_pseudonym_key(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path), "CENTRAL_URL": "https://central.example.org",
           "CENTRAL_TOKEN": "x" * 43}
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)
    message = str(refused.value)
    assert message.startswith("CENTRAL_URL is set but PSEUDONYM_KEY is not")
    assert "a different pseudonym on each and is counted twice" in message
    assert "a key generated for one installation cannot be shared" in message
    assert list(tmp_path.iterdir()) == []  # nothing generated for a refused start
    settings = Settings.from_env({**env, "PSEUDONYM_KEY": "p" * 32})
    assert settings.pseudonym_key == "p" * 32
    assert settings.generated_secrets == {"TWILIO_AUTH_TOKEN", "SECRET_KEY"}


def test_a_secrets_file_others_can_read_is_refused(tmp_path: Path) -> None:
    Settings.from_env({"DATA_DIR": str(tmp_path)})
    (tmp_path / "secrets.env").chmod(0o644)
    with pytest.raises(SettingsError, match=r"others may read or change it \(mode 644\)"):
        Settings.from_env({"DATA_DIR": str(tmp_path)})


def test_a_data_dir_that_cannot_hold_the_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(SettingsError, match=r"secrets.env \(Not a directory\): check DATA_DIR"):
        Settings.from_env({"DATA_DIR": str(blocker)})
    # /proc takes no new directories, even from root.
    with pytest.raises(SettingsError, match="cannot create /proc/civicline-test/secrets.env to "
                       "hold this installation's secrets .*: point DATA_DIR at a writable"):
        Settings.from_env({"DATA_DIR": "/proc/civicline-test"})


def test_a_secrets_file_missing_a_value_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    path.write_text("TWILIO_AUTH_TOKEN=abc\nPSEUDONYM_KEY=def\n")
    path.chmod(0o600)
    with pytest.raises(SettingsError, match="secrets.env lacks SECRET_KEY"):
        Settings.from_env({"DATA_DIR": str(tmp_path)})
