"""Outreach in the centre's API for gateways (docs/outreach.md), on the same blueprint,
bearer tokens and checks as the rest of /api/v1 (api.py):

GET  /api/v1/outreach           the published definitions, drafts included, but those
                                finished more than a day ago; ETag / If-None-Match -> 304
POST /api/v1/outreach/progress  {"outreach": [report, ...]} -> {"stored": n}; a report
                                that is malformed, names an outreach the centre does not
                                have, or holds anything like a phone number is refused
                                whole with 400, and nothing is stored
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from flask import Response, g, jsonify, request

from gateway.central.api import _body, _json_error, blueprint, central_store
from gateway.central.outreach_validation import ProgressInvalid, parse_progress
from gateway.central.store.outreach import OutreachStore, ProgressReport

log = logging.getLogger(__name__)


def _outreach_store() -> OutreachStore:
    return OutreachStore(central_store().engine)


@blueprint.get("/outreach")
def list_outreach() -> Response:
    now = datetime.now(UTC)
    central_store().touch(g.gateway, now)
    store = _outreach_store()
    published = store.published(now)
    etag = store.etag(published)
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = jsonify([o.published() for o in published])
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.post("/outreach/progress")
def receive_progress() -> Response:
    body = _body()
    if isinstance(body, Response):
        return body
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return _json_error(400, "malformed report", f"body is not JSON: {exc}")
    try:
        reports = parse_progress(payload)
    except ProgressInvalid as exc:
        log.warning("gateway %s: refused an outreach report (%s)", g.gateway, exc.problems[0])
        return _json_error(400, "malformed report", "nothing was stored",
                           problems=exc.problems[:100])  # fmt: skip
    store = _outreach_store()
    problems = []
    for index, report in enumerate(reports):
        found = store.get(report.id)
        if found is None:
            problems.append(f"outreach[{index}].id: no outreach {report.id} at the centre")
        elif report.version > found.version:
            problems.append(f"outreach[{index}].version: {report.id} is at version "
                            f"{found.version}, not {report.version}")  # fmt: skip
    if problems:
        return _json_error(400, "malformed report", "nothing was stored", problems=problems)
    now = datetime.now(UTC)
    stored = store.store_progress(g.gateway, [
        ProgressReport(outreach_id=r.id, gateway=g.gateway, version=r.version, counts=r.counts,
                       answered=r.answered, received_at=now, preview=r.preview)
        for r in reports
    ])  # fmt: skip
    central_store().touch(g.gateway, now)
    return jsonify(stored=stored)
