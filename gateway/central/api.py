"""The central store's API for gateways, under /api/v1 (JSON, per-gateway bearer tokens).

POST /api/v1/events          {"events": [...], "backlog": n}
                             -> {"new": n, "known": n, "refused": [{"index", "event_id",
                                 "reason"}, ...]}
GET  /api/v1/consultations   [{"id", "version", "definition"}], ETag / If-None-Match -> 304

A malformed batch (an event of the wrong shape) is refused whole with 400 and stores
nothing. A well-formed batch is answered 200: its events are stored, except those refused
one by one for what they say (dated in the future, before their consultation opened, for a
consultation, question or option not published here), which are listed in "refused" and
never stored. An event the centre already has is "known", whatever it says.
"""

from __future__ import annotations

import json
import logging
import math
import zlib
from dataclasses import replace
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, g, jsonify, request

from gateway.central.store.central_store import CentralStore
from gateway.central.store.token_failures import TOKEN_FAILURE_LIMIT, TOKEN_FAILURE_WINDOW
from gateway.central.validation import BatchTooLarge, Refusal, check_events, parse_batch

log = logging.getLogger(__name__)

blueprint = Blueprint("central_api", __name__, url_prefix="/api/v1")

EXTENSION = "civicline_central"
MAX_BODY_BYTES = 24 * 1024 * 1024  # after gzip decoding, too
MAX_PROBLEMS_LISTED = 1_000


def central_store() -> CentralStore:
    return current_app.extensions[EXTENSION]


def _json_error(status: int, error: str, detail: str, **extra: object) -> Response:
    response = jsonify(error=error, detail=detail, **extra)
    response.status_code = status
    return response


@blueprint.before_request
def _authenticate() -> Response | None:
    """A known gateway token is accepted, always; a wrong one counts as a failure of the
    peer's address, and an address with TOKEN_FAILURE_LIMIT recent failures gets 429
    for anything but a correct token.

    Why a correct token passes a locked address: addresses are the peer's
    (request.remote_addr), and many callers share one. The embedded centre's in-process
    sync and a reverse proxy on the same host both arrive as 127.0.0.1, so a lockout
    that refused every token would let ten wrong tokens from anything on the host lock
    the real gateway out for ten minutes. Letting a correct token through means a locked
    guesser's guesses are still answered, and that is sound: tokens are 256 random bits
    (secrets.token_urlsafe(32)), so each guess hits one of n gateways' tokens with
    probability n / 2**256, however many guesses are answered. The throttle is there to
    slow guessing down and to keep the logs and the failure table quiet, not as the
    defence; the token's entropy is.
    """
    request.max_content_length = MAX_BODY_BYTES
    store = central_store()
    remote = request.remote_addr or "unknown"
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else ""
    gateway = store.authenticate(bearer) if bearer else None
    if gateway is not None:
        g.gateway = gateway
        return None
    now = datetime.now(UTC)
    locked_until = store.token_lockout(remote, now)
    if locked_until is not None:
        return _too_many_failures(remote, locked_until, now)
    if not header:
        return _unauthorized("missing 'Authorization: Bearer <gateway token>' header")
    if not bearer:
        return _unauthorized("expected 'Authorization: Bearer <gateway token>'")
    store.record_token_failure(remote, now)
    log.warning("central API: unknown gateway token from %s", remote)
    return _unauthorized("unknown gateway token (issue one with `civicline central "
                         "add-gateway NAME`)")


def _too_many_failures(remote: str, until: datetime, now: datetime) -> Response:
    wait = max(1, math.ceil((until - now).total_seconds()))
    minutes = int(TOKEN_FAILURE_WINDOW.total_seconds() // 60)
    response = _json_error(
        429, "too many failed token checks",
        f"{TOKEN_FAILURE_LIMIT} unknown gateway tokens from {remote} within {minutes} "
        f"minutes; try again in {wait} s",
    )
    response.headers["Retry-After"] = str(wait)
    return response


def _unauthorized(detail: str) -> Response:
    response = _json_error(401, "unauthorized", detail)
    response.headers["WWW-Authenticate"] = 'Bearer realm="civicline-central"'
    return response


@blueprint.post("/events")
def receive_events() -> Response:
    body = _body()
    if isinstance(body, Response):
        return body
    try:
        payload = json.loads(body)
    except ValueError as exc:
        return _json_error(400, "malformed batch", f"body is not JSON: {exc}",
                           problems=[{"index": None, "field": None, "reason": "not JSON"}])
    except RecursionError:  # e.g. [[[[...]]]]: the decoder gives up; so do we
        return _json_error(400, "malformed batch", "body is JSON nested too deeply",
                           problems=[{"index": None, "field": None, "reason": "nested too deeply"}])
    try:
        batch, problems = parse_batch(payload)
    except BatchTooLarge as exc:
        return _json_error(413, "batch too large", str(exc))
    if batch is None:
        listed = [p.as_json() for p in problems[:MAX_PROBLEMS_LISTED]]
        log.warning("gateway %s: refused a batch with %d problems (first: %s)",
                    g.gateway, len(problems), listed[0])
        return _json_error(
            400, "malformed batch",
            "nothing was stored; fix or drop the events listed and send the batch again",
            problems=listed, problems_total=len(problems),
        )
    store = central_store()
    now = datetime.now(UTC)
    accepted, refused = check_events(batch.events, store.published_consultations(), now)
    stored: set[str] = set()
    if refused:  # one the centre already has (an earlier copy) is known, not refused
        stored = store.known_events(r.event_id for r in refused)
        refused = [r for r in refused if r.event_id not in stored]
    if refused and not batch.reads_refusals:
        return _refused_to_an_older_gateway(refused)
    receipt = store.receive(g.gateway, replace(batch, events=accepted), now)
    known = receipt.known + len(stored)
    if refused:
        log.warning("gateway %s: refused %d of %d events (first: event %s: %s)", g.gateway,
                    len(refused), len(batch.events), refused[0].event_id, refused[0].reason)
    log.info("gateway %s: %d new events, %d already known, %d refused, backlog %s",
             g.gateway, receipt.new, known, len(refused), batch.backlog)
    return jsonify(new=receipt.new, known=known, refused=[r.as_json() for r in refused])


def _refused_to_an_older_gateway(refused: list[Refusal]) -> Response:
    """The refusals as a malformed batch, which a gateway from before per-event refusals
    quarantines event by event (storing nothing now; it sends the rest again)."""
    log.warning("gateway %s (an older version): refused %d events as a malformed batch "
                "(first: event %s: %s)", g.gateway, len(refused), refused[0].event_id,
                refused[0].reason)
    return _json_error(
        400, "malformed batch",
        "nothing was stored; the events listed cannot be placed at the centre",
        problems=[{"index": r.index, "field": None, "reason": r.reason}
                  for r in refused[:MAX_PROBLEMS_LISTED]],
        problems_total=len(refused),
    )


def _body() -> bytes | Response:
    """The request body, gzip-decoded when sent so (slow uplinks), within MAX_BODY_BYTES."""
    raw = request.get_data(cache=False)
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in {"", "identity"}:
        return raw
    if encoding != "gzip":
        return _json_error(415, "unsupported encoding", f"Content-Encoding {encoding!r}: "
                           "send gzip or nothing")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(raw, MAX_BODY_BYTES + 1)
    except zlib.error as exc:
        return _json_error(400, "malformed batch", f"bad gzip body: {exc}",
                           problems=[{"index": None, "field": None, "reason": "bad gzip"}])
    if len(data) > MAX_BODY_BYTES or inflater.unconsumed_tail:
        return _json_error(413, "batch too large",
                           f"decoded body is larger than {MAX_BODY_BYTES} bytes")
    if not inflater.eof:
        return _json_error(400, "malformed batch", "truncated gzip body",
                           problems=[{"index": None, "field": None, "reason": "bad gzip"}])
    return data


@blueprint.get("/consultations")
def list_consultations() -> Response:
    store = central_store()
    store.touch(g.gateway, datetime.now(UTC))
    etag = store.catalog_etag()
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = jsonify(
            [
                {"id": c.id, "version": c.version, "definition": c.definition}
                for c in store.consultations()
            ]
        )
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response
