"""Settings from environment variables: the only module that reads os.environ."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

DEV_AUTH_TOKEN = "civicline-dev-token"  # noqa: S105 - a published placeholder, refused in production
DEV_PSEUDONYM_KEY = "civicline-dev-pseudonym-key"  # noqa: S105
DEV_SECRET_KEY = "civicline-dev-session-key"  # noqa: S105
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    production: bool = False
    twilio_auth_token: str = DEV_AUTH_TOKEN
    twilio_account_sid: str = ""
    twilio_from_number: str = ""  # caller id for call-backs
    public_base_url: str = ""  # "" -> validate against the request's own URL
    signature_checks: bool = True
    database_url: str = "sqlite:///var/civicline.db"
    redis_url: str = ""  # "" -> embedded in-process queue
    central_url: str = ""  # "" -> central store in the same process
    central_token: str = ""
    central_database_url: str = "sqlite:///var/central.db"
    gateway_id: str = "local"
    pseudonym_key: str = DEV_PSEUDONYM_KEY
    secret_key: str = DEV_SECRET_KEY  # officials' session cookies
    data_dir: Path = Path("var")  # secrets.env; the default SQLite databases
    flows_dir: Path = Path("ivr_flows")
    default_region: str = ""  # ISO country for numbers sent without "+" (e.g. "KE"); "" -> none
    sqlite_synchronous: str = "FULL"  # FULL: a committed answer survives power loss
    replies_per_hour: int = 30  # cap on SMS replies to one number per hour
    max_invalid_tries: int = 3
    max_body_bytes: int = 64 * 1024
    gather_timeout: int = 8  # seconds a caller has to press a key
    speech_rate: str = "85%"  # SSML prosody rate for <Say>
    tts_voices: Mapping[str, str] = field(default_factory=dict)  # language -> Twilio voice
    tts_languages: Mapping[str, str] = field(default_factory=dict)  # language -> BCP-47 tag
    max_recording_seconds: int = 120
    callbacks_per_day: int = 3
    sync_batch_size: int = 500
    sync_interval: float = 30.0  # seconds between sweeps for unsynced events
    small_cell_k: int = 5
    regions_file: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name.upper(), raw, cls.__dataclass_fields__[f.name].type)
        # CIVICLINE_ENV=production is the conventional switch.
        if env.get("CIVICLINE_ENV", "").lower() == "production":
            values["production"] = True
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    def check(self) -> None:
        """Refuse to run production on defaults; warn loudly outside it."""
        defaults = {
            "TWILIO_AUTH_TOKEN": self.twilio_auth_token == DEV_AUTH_TOKEN,
            "PSEUDONYM_KEY": self.pseudonym_key == DEV_PSEUDONYM_KEY,
            "SECRET_KEY": self.secret_key == DEV_SECRET_KEY,
        }
        unset = [name for name, is_default in defaults.items() if is_default]
        if self.production:
            if unset:
                raise SettingsError(
                    "production mode needs real secrets; set " + ", ".join(unset)
                )
            if not self.signature_checks:
                raise SettingsError("production mode refuses SIGNATURE_CHECKS=off")
            if len(self.pseudonym_key) < 16:
                raise SettingsError("PSEUDONYM_KEY must be at least 16 characters")
        if self.central_url and not self.central_token:
            raise SettingsError(
                "CENTRAL_URL is set but CENTRAL_TOKEN is not: issue one on the centre with "
                "`civicline central add-gateway NAME`"
            )
        if self.production and self.central_url:
            # The token travels in every request: never in clear beyond this machine.
            parsed = urlsplit(self.central_url)
            if parsed.scheme != "https" and parsed.hostname not in LOOPBACK_HOSTS:
                raise SettingsError(
                    f"production mode needs CENTRAL_URL over https (got {parsed.scheme}://"
                    f"{parsed.hostname}): the gateway token would cross the network in clear"
                )
        if self.sqlite_synchronous.upper() not in {"FULL", "NORMAL", "EXTRA"}:
            raise SettingsError("SQLITE_SYNCHRONOUS must be FULL, NORMAL or EXTRA")

    def warnings(self) -> list[str]:
        notes = []
        if self.twilio_auth_token == DEV_AUTH_TOKEN:
            notes.append("TWILIO_AUTH_TOKEN is the development token: only for local trials")
        if self.pseudonym_key == DEV_PSEUDONYM_KEY:
            notes.append("PSEUDONYM_KEY is the development key: pseudonyms are not secret")
        if not self.signature_checks:
            notes.append("SIGNATURE_CHECKS=off: anyone can post to the Twilio webhooks")
        return notes


def _convert(name: str, raw: str, annotation: object) -> object:
    kind = str(annotation)
    try:
        if kind == "bool":
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(f"expected on/off, got {raw!r}")
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind.startswith("Path"):
            return Path(raw)
        if kind.startswith("Mapping"):
            return _parse_mapping(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from exc
    return raw.strip()


def _parse_mapping(raw: str) -> dict[str, str]:
    """`en=Polly.Joanna,sw=Google.sw-KE-Standard-A` -> {"en": ..., "sw": ...}."""
    result = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"expected key=value pairs separated by commas, got {item!r}")
        result[key.strip()] = value.strip()
    return result
