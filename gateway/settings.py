"""Settings from environment variables: the only module that reads os.environ.

Secrets left unset outside production are generated once per installation and kept in
DATA_DIR/secrets.env (see `installation_secrets`), so that every process of the
installation (gunicorn workers, `civicline simulate`, the worker) agrees on them. DATA_DIR
defaults to Flask's instance folder (`default_data_dir`), wherever a command starts.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

# The secrets, by variable name and Settings field, in the order messages list them.
SECRETS = {
    "TWILIO_AUTH_TOKEN": "twilio_auth_token",
    "PSEUDONYM_KEY": "pseudonym_key",
    "SECRET_KEY": "secret_key",
}
SECRETS_FILE = "secrets.env"  # in DATA_DIR
# Development defaults that earlier versions published in their source and used whenever
# a secret was unset: anyone can sign webhooks, forge officials' sessions and recompute
# pseudonyms with them, so they are refused wherever they are set.
PUBLISHED_SECRETS = {
    "TWILIO_AUTH_TOKEN": "civicline-dev-token",
    "PSEUDONYM_KEY": "civicline-dev-pseudonym-key",
    "SECRET_KEY": "civicline-dev-session-key",
}
# Settings(...) built in code without a secret (tests, benches) get one drawn for this
# process: never a published value, never written anywhere. from_env() does not use them.
_PROCESS_SECRETS = {name: secrets.token_urlsafe(32) for name in SECRETS}


def default_data_dir() -> Path:
    """DATA_DIR when unset: Flask's instance folder for this package, the same wherever a
    command is started. `instance/` beside `gateway/` in a checkout (an editable
    install), `<prefix>/var/gateway-instance/` once installed into an environment."""
    from flask import Flask

    return Path(Flask("gateway").instance_path)


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    production: bool = False
    twilio_auth_token: str = _PROCESS_SECRETS["TWILIO_AUTH_TOKEN"]
    twilio_account_sid: str = ""
    twilio_from_number: str = ""  # caller id for call-backs
    # Twilio's REST API; another address for a Twilio-compatible provider or a test stand-in.
    twilio_api_url: str = "https://api.twilio.com"
    public_base_url: str = ""  # "" -> validate against the request's own URL
    signature_checks: bool = True
    database_url: str = ""  # "" -> sqlite:///DATA_DIR/civicline.db
    redis_url: str = ""  # "" -> embedded in-process queue
    central_url: str = ""  # "" -> central store in the same process
    central_token: str = ""
    central_database_url: str = ""  # "" -> sqlite:///DATA_DIR/central.db
    gateway_id: str = "local"
    pseudonym_key: str = _PROCESS_SECRETS["PSEUDONYM_KEY"]
    secret_key: str = _PROCESS_SECRETS["SECRET_KEY"]  # officials' session cookies
    # secrets.env, the default SQLite databases, prepared exports
    data_dir: Path = field(default_factory=lambda: default_data_dir())
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
    # Outreach (sending invitations, reminders, results): rates shared by every worker.
    sms_per_second: float = 1.0  # a long code sends about 1/s; a short code about 100/s
    calls_per_second: float = 1.0  # Twilio's default calls per second per account
    max_concurrent_calls: int = 10  # outreach calls placed and not yet completed
    outreach_amd: bool = False  # answering-machine detection on outreach calls
    outreach_batch_size: int = 50  # rows claimed per batch; pause/cancel act between them
    # Variable names of the secrets from_env() took from DATA_DIR/secrets.env because
    # they were unset; not itself read from the environment.
    generated_secrets: frozenset[str] = field(default=frozenset(), metadata={"env": False})

    def __post_init__(self) -> None:
        # The default databases live in DATA_DIR, whichever way it was given.
        for name, file in (("database_url", "civicline.db"), ("central_database_url",
                                                               "central.db")):
            if not getattr(self, name):
                object.__setattr__(self, name, f"sqlite:///{self.data_dir / file}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            if not f.metadata.get("env", True):
                continue
            raw = env.get(f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name.upper(), raw, cls.__dataclass_fields__[f.name].type)
        # CIVICLINE_ENV=production is the conventional switch.
        if env.get("CIVICLINE_ENV", "").lower() == "production":
            values["production"] = True
        unset = [name for name, attr in SECRETS.items() if attr not in values]
        if values.get("production") and unset:
            raise SettingsError("production mode needs real secrets; set " + ", ".join(unset))
        settings = cls(**values)  # type: ignore[arg-type]
        data_dir = settings.data_dir
        settings.check()
        if settings.central_url and "PSEUDONYM_KEY" in unset:
            raise SettingsError(
                "CENTRAL_URL is set but PSEUDONYM_KEY is not: every gateway syncing to one "
                "centre must use the same PSEUDONYM_KEY, or one person who texts or calls two "
                "of them gets a different pseudonym on each and is counted twice; a key "
                "generated for one installation cannot be shared. Set the same PSEUDONYM_KEY "
                "(at least 16 characters) on every gateway of this centre"
            )
        if not unset:
            return settings
        stored = installation_secrets(data_dir)
        missing = [name for name in unset if not stored.get(name)]
        if missing:
            raise SettingsError(
                f"{settings.secrets_file} lacks {', '.join(missing)}: restore it from a "
                f"backup, or set {', '.join(missing)} in the environment"
            )
        generated = {SECRETS[name]: stored[name] for name in unset}
        settings = replace(settings, **generated, generated_secrets=frozenset(unset))
        settings.check()  # the file may have been edited by hand
        return settings

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def secrets_file(self) -> Path:
        return self.data_dir / SECRETS_FILE

    def check(self) -> None:
        """Refuse published secrets anywhere, and unsafe settings in production."""
        for name, published in PUBLISHED_SECRETS.items():
            if getattr(self, SECRETS[name]) == published:
                raise SettingsError(
                    f"{name} is the development value published in CivicLine's source "
                    f"({published!r}): anyone could use it. Set a secret of your own, or, "
                    f"outside production, unset it to have one generated in {self.secrets_file}"
                )
        if self.production:
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
        api = urlsplit(self.twilio_api_url)
        if api.scheme not in {"https", "http"} or not api.hostname or api.path.strip("/"):
            raise SettingsError(f"TWILIO_API_URL must be a scheme and host, such as "
                                f"https://api.twilio.com (got {self.twilio_api_url!r})")
        if self.production and api.scheme != "https" and api.hostname not in LOOPBACK_HOSTS:
            raise SettingsError("production mode needs TWILIO_API_URL over https: the account's "
                                "credentials travel with every request")
        if self.sqlite_synchronous.upper() not in {"FULL", "NORMAL", "EXTRA"}:
            raise SettingsError("SQLITE_SYNCHRONOUS must be FULL, NORMAL or EXTRA")

    def warnings(self) -> list[str]:
        notes = []
        if "TWILIO_AUTH_TOKEN" in self.generated_secrets:
            notes.append(
                "TWILIO_AUTH_TOKEN is not set: webhooks must be signed with the token "
                f"generated in {self.secrets_file}, as `civicline simulate` signs them; "
                "Twilio's own requests are refused (403). Only for local trials"
            )
        if not self.signature_checks:
            notes.append("SIGNATURE_CHECKS=off: anyone can post to the Twilio webhooks")
        return notes


def installation_secrets(data_dir: Path) -> dict[str, str]:
    """TWILIO_AUTH_TOKEN, PSEUDONYM_KEY and SECRET_KEY of this installation, from
    `data_dir`/secrets.env, generated there on first use.

    Several processes may start at once (gunicorn workers, `civicline simulate`): each
    writes its candidate to a temporary file of its own, readable only by its owner, then
    hard-links it to the final name. os.link fails if the name exists, so exactly one
    process wins, with a file complete from the moment it appears; the others read it.
    (Not synced: a file cut short by a power loss right after the first start lacks a
    value, and start-up then stops and says so rather than draw new keys.)
    """
    path = data_dir / SECRETS_FILE
    stored = _read_secrets(path)
    if stored is not None:
        return stored
    made = {name: secrets.token_urlsafe(32) for name in SECRETS}
    text = (
        "# Secrets generated by CivicLine for this installation, because none was set.\n"
        "# Keep this file private and back it up with the databases: participants'\n"
        "# pseudonyms depend on PSEUDONYM_KEY. A variable set in the environment wins.\n"
        + "".join(f"{name}={value}\n" for name, value in made.items())
    )
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        temporary = data_dir / f".{SECRETS_FILE}.{os.getpid()}.{secrets.token_hex(8)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                out.write(text)
            try:
                os.link(temporary, path)
            except FileExistsError:  # another process won: its secrets are the ones
                won = _read_secrets(path)
                if won is None:
                    raise SettingsError(f"{path} disappeared while it was being read") from None
                return won
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as exc:
        raise SettingsError(
            f"cannot create {path} to hold this installation's secrets ({exc.strerror or exc}):"
            " point DATA_DIR at a writable directory, or set TWILIO_AUTH_TOKEN, "
            "PSEUDONYM_KEY and SECRET_KEY"
        ) from exc
    log.warning(
        "generated TWILIO_AUTH_TOKEN, PSEUDONYM_KEY and SECRET_KEY for this installation in "
        "%s (readable only by its owner); keep it and back it up with the databases: "
        "participants' pseudonyms depend on it", path,
    )
    return made


def _read_secrets(path: Path) -> dict[str, str] | None:
    """The secrets `path` holds, NAME=value a line; None if it does not exist."""
    try:
        with open(path, encoding="utf-8") as file:
            mode = os.fstat(file.fileno()).st_mode
            text = file.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SettingsError(
            f"cannot read {path} ({exc.strerror or exc}): check DATA_DIR={path.parent}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise SettingsError(f"cannot read {path}: not UTF-8 text ({exc.reason})") from exc
    if mode & 0o077:
        raise SettingsError(
            f"{path} holds secrets but others may read or change it (mode "
            f"{mode & 0o777:o}): `chmod 600 {path}`"
        )
    values = {}
    for line in text.splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and not name.startswith("#"):
            values[name.strip()] = value.strip()
    return values


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
