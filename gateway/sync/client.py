"""The gateway's client for the central store API, over a transport: HTTP to CENTRAL_URL
here, or the central app in this process (gateway/embedded_centre.py).

Both transports carry the same bytes to the same routes, so authentication, validation
and idempotency are exercised identically whether the centre is across a 2G uplink or
in the same process (the embedded default).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from gateway.store.outreach import CachedOutreach
from gateway.store.sync_state import CachedConsultation

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0
GZIP_MIN_BYTES = 1024


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Transport(Protocol):
    def request(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None
    ) -> HttpReply: ...


class CentralError(Exception):
    """The centre did not accept what was sent; the events stay in the outbox."""


class CentralUnreachable(CentralError):
    """No answer, a timeout or a server error: try again later."""


class CentralRefused(CentralError):
    """The centre answered but refused (bad token, wrong URL, ...): needs an operator."""


class NotOffered(CentralError):
    """404: this centre has no such route yet (an older centre): skip, do not fail."""


class BatchTooLarge(CentralError):
    """413: send fewer events per request."""


@dataclass
class BatchRejected(CentralError):
    """400 with per-event problems: nothing of the batch was stored."""

    problems: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"central store refused a batch: {len(self.problems)} problems"


@dataclass(frozen=True)
class Refused:
    """An event of an accepted batch that the centre would not store, and why."""

    index: int  # position in the batch sent
    event_id: str
    reason: str


@dataclass(frozen=True)
class Receipt:
    new: int
    known: int
    refused: tuple[Refused, ...] = ()  # never stored: the rest of the batch was


@dataclass(frozen=True)
class OutreachSet:
    etag: str
    outreach: list[CachedOutreach]


@dataclass(frozen=True)
class ConsultationSet:
    etag: str
    consultations: list[CachedConsultation]


class HttpTransport:
    """HTTP(S) to CENTRAL_URL with a kept-alive connection."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def request(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None
    ) -> HttpReply:
        try:
            response = self.session.request(
                method, self.base_url + path, headers=dict(headers), data=body,
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise CentralUnreachable(
                f"cannot reach the central store at {self.base_url}: {_reason(exc)}"
            ) from exc
        return HttpReply(response.status_code, response.headers, response.content)

    def close(self) -> None:
        self.session.close()


class CentralClient:
    def __init__(self, transport: Transport, token: str, *, compress: bool = True) -> None:
        self.transport = transport
        self.token = token
        self.compress = compress

    def _headers(self) -> dict[str, str]:
        if not self.token:
            raise CentralRefused("no gateway token: set CENTRAL_TOKEN (issued by "
                                 "`civicline central add-gateway NAME` on the centre)")
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}

    def send_events(
        self, events: Sequence[Mapping[str, Any]], backlog: int, quarantined: int = 0
    ) -> Receipt:
        body = json.dumps(
            {"events": list(events), "backlog": backlog, "quarantined": quarantined,
             "per_event_refusals": True},
            separators=(",", ":"), ensure_ascii=False,
        ).encode()
        headers = {**self._headers(), "Content-Type": "application/json"}
        if self.compress and len(body) >= GZIP_MIN_BYTES:
            body = gzip.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        reply = self.transport.request("POST", "/api/v1/events", headers, body)
        if reply.status == 200:
            return _receipt(reply)
        if reply.status == 400:
            problems = _problems(reply)
            if any(isinstance(p.get("index"), int) for p in problems):
                raise BatchRejected(problems)
        if reply.status == 413:
            raise BatchTooLarge(f"central store: batch too large ({_detail(reply)})")
        raise _error(reply, "sending events")

    def fetch_consultations(self, etag: str | None) -> ConsultationSet | None:
        """The published set, or None when it has not changed since `etag`."""
        headers = self._headers()
        if etag:
            headers["If-None-Match"] = etag
        reply = self.transport.request("GET", "/api/v1/consultations", headers, None)
        if reply.status == 304:
            return None
        if reply.status != 200:
            raise _error(reply, "fetching consultations")
        try:
            items = [
                CachedConsultation(str(i["id"]), int(i["version"]), str(i["definition"]))
                for i in reply.json()
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise CentralRefused(
                f"central store sent an unreadable consultation list: {exc}"
            ) from exc
        return ConsultationSet(_header(reply, "ETag") or "", items)


    def fetch_outreach(self, etag: str | None) -> OutreachSet | None:
        """The published outreach (docs/outreach.md §2), or None when unchanged."""
        headers = self._headers()
        if etag:
            headers["If-None-Match"] = etag
        reply = self.transport.request("GET", "/api/v1/outreach", headers, None)
        if reply.status == 304:
            return None
        if reply.status == 404:
            raise NotOffered("the centre publishes no outreach (GET /api/v1/outreach: 404)")
        if reply.status != 200:
            raise _error(reply, "fetching outreach")
        try:
            items = [
                CachedOutreach(str(i["id"]), int(i["version"]), str(i["consultation_id"]),
                               str(i["status"]),
                               json.dumps(i, separators=(",", ":"), ensure_ascii=False))
                for i in reply.json()
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise CentralRefused(f"central store sent an unreadable outreach list: {exc}") \
                from exc
        return OutreachSet(_header(reply, "ETag") or "", items)

    def send_outreach_progress(self, reports: Sequence[Mapping[str, Any]]) -> int:
        """POST /api/v1/outreach/progress: counts per outreach, never a number."""
        body = json.dumps({"outreach": list(reports)}, separators=(",", ":")).encode()
        headers = {**self._headers(), "Content-Type": "application/json"}
        reply = self.transport.request("POST", "/api/v1/outreach/progress", headers, body)
        if reply.status == 404:
            raise NotOffered("the centre takes no outreach progress (404)")
        if reply.status != 200:
            raise _error(reply, "reporting outreach progress")
        try:
            return int(reply.json()["stored"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CentralRefused(f"central store sent an unreadable answer: {exc}") from exc


def _receipt(reply: HttpReply) -> Receipt:
    """The centre's answer to a batch it took. A list of refusals this client cannot read
    is an error, never read as "none": the events would be marked synced unstored."""
    try:
        data = reply.json()
        refused = tuple(
            Refused(int(r["index"]), str(r["event_id"]), str(r["reason"]))
            for r in data.get("refused") or ()
        )
        return Receipt(new=int(data["new"]), known=int(data["known"]), refused=refused)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CentralRefused(
            f"central store sent an unreadable receipt for a batch: {exc!r}"
        ) from exc


def _reason(exc: requests.RequestException) -> str:
    """`[Errno 111] Connection refused` rather than urllib3's nested repr."""
    found = re.search(r"\[Errno -?\d+\] [^'\")]+", str(exc))
    if found:
        return found.group(0).strip()
    if isinstance(exc, requests.Timeout):
        return f"no answer within the timeout ({exc.__class__.__name__})"
    return f"{exc.__class__.__name__}: {str(exc)[:200]}"


def _header(reply: HttpReply, name: str) -> str | None:
    for key, value in reply.headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _problems(reply: HttpReply) -> list[dict[str, Any]]:
    try:
        problems = reply.json().get("problems", [])
    except (ValueError, AttributeError):
        return []
    return [p for p in problems if isinstance(p, dict)] if isinstance(problems, list) else []


def _detail(reply: HttpReply) -> str:
    try:
        data = reply.json()
        return str(data.get("detail") or data.get("error"))
    except (ValueError, AttributeError):
        text = reply.body[:200].decode("utf-8", "replace").strip()
        return text or "no body (is CENTRAL_URL the central store?)"


def _error(reply: HttpReply, doing: str) -> CentralError:
    message = f"central store answered {reply.status} when {doing}: {_detail(reply)}"
    if reply.status >= 500 or reply.status in (408, 429):
        return CentralUnreachable(message)
    return CentralRefused(message)
