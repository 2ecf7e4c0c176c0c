"""Events the centre will not take, held back with its reasons.

- A batch the centre refuses as malformed (400) names the bad events; those are
  quarantined (kept, with the reason in `sync_error`, and shown by `civicline status`)
  and the rest is sent again at once, so one poison event never blocks the outbox.
- A batch the centre accepts (200) may list events it refused for what they say (dated
  in the future, before their consultation opened, for a consultation, question or
  option it has not published): exactly those are quarantined, the rest marked synced.
- A refusal that does not name events of the batch sent is an error (CentralRefused):
  marking anything then could lose the events it meant.

`civicline sync --retry-quarantined` sends quarantined events again once the cause is fixed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from gateway.store.outbox import OutboxEvent, OutboxStore
from gateway.sync.client import CentralRefused, Refused

log = logging.getLogger(__name__)


def reasons_from(batch: Sequence[OutboxEvent], problems: list[dict[str, Any]]
                 ) -> dict[int, list[str]]:
    """Positions in `batch` of the events a malformed batch's problems name, with the
    reasons; CentralRefused when they name none of them."""
    reasons: dict[int, list[str]] = {}
    for problem in problems:
        index = problem.get("index")
        if isinstance(index, int) and 0 <= index < len(batch):
            where = problem.get("field") or "event"
            reasons.setdefault(index, []).append(f"{where}: {problem.get('reason')}")
    if not reasons:
        raise CentralRefused(f"central store refused a batch without naming an event: "
                             f"{problems[:3]}")
    return reasons


def refused_in(batch: Sequence[OutboxEvent], refused: Sequence[Refused]) -> dict[int, list[str]]:
    """Positions in `batch` of the events the centre refused, with the reasons.

    Each refusal must name an event of the batch by position and id; otherwise nothing
    of the batch is marked (CentralRefused): marking would lose the events it meant.
    """
    reasons: dict[int, list[str]] = {}
    for item in refused:
        if not 0 <= item.index < len(batch) or _canonical(
            batch[item.index].payload["event_id"]
        ) != _canonical(item.event_id):
            raise CentralRefused(
                f"central store refused event {item.event_id!r} at position {item.index}, "
                f"which is not in the batch sent ({len(batch)} events); nothing marked synced"
            )
        reasons.setdefault(item.index, []).append(item.reason)
    return reasons


def _canonical(event_id: str) -> str:
    try:
        return str(uuid.UUID(event_id))
    except ValueError:
        return event_id


def hold_back(outbox: OutboxStore, batch: Sequence[OutboxEvent],
              reasons: Mapping[int, list[str]]) -> int:
    """Quarantine the events of `batch` at these positions, with their reasons."""
    marked = outbox.quarantine(
        {batch[i].seq: "refused by the central store: " + "; ".join(r)
         for i, r in reasons.items()}
    )
    for index, why in sorted(reasons.items())[:10]:
        log.error("sync: quarantined event %s (%s/%s): %s", batch[index].payload["event_id"],
                  batch[index].payload["consultation_id"],
                  batch[index].payload["question_id"], "; ".join(why))
    log.error("sync: %d events quarantined; `civicline status` lists them, "
              "`civicline sync --retry-quarantined` sends them again", marked)
    return marked
