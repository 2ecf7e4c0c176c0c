from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import Settings, SettingsError


def test_defaults_without_environment() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///var/civicline.db"
    assert settings.redis_url == ""
    assert settings.flows_dir == Path("ivr_flows")
    assert not settings.production
    assert any("TWILIO_AUTH_TOKEN" in w for w in settings.warnings())


def test_values_are_converted() -> None:
    settings = Settings.from_env(
        {
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


def test_production_refuses_default_secrets() -> None:
    with pytest.raises(SettingsError, match="TWILIO_AUTH_TOKEN, PSEUDONYM_KEY, SECRET_KEY"):
        Settings.from_env({"CIVICLINE_ENV": "production"})


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
