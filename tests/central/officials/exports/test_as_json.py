"""Tallies as JSON (`civicline export tallies --format json`, SQLite and PostgreSQL): the
shape README.md documents, with a breakdown only when asked for."""

from __future__ import annotations

import json

from tests.central.officials.command_line import civicline

CID = "survey-test"


def test_tallies_json_has_the_documented_shape(central_url: str, rows: list) -> None:
    result = civicline(central_url, "export", "tallies", CID, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["consultation"] == CID and document["version"] == 1
    assert document["small_cell_k"] == 5 and document["generated_at"].endswith("Z")
    assert set(document["participants"]) == {"sms", "voice", "total"}
    priority = document["questions"][0]
    assert priority["id"] == "priority" and priority["profile"] is False
    assert [o["id"] for o in priority["options"]] == ["water", "roads", "clinics", "schools"]
    rows = priority["options"] + [priority[s] for s in ("unparsed", "skipped", "no_answer")]
    assert sum(r["total"] for r in rows) == priority["reached"]["total"]
    assert all(r["total"] == r["sms"] + r["voice"] for r in rows)
    assert "breakdown" not in priority


def test_a_breakdown_hides_small_cells_as_strings(central_url: str, rows: list) -> None:
    result = civicline(central_url, "export", "tallies", CID, "--format", "json", "--by", "gender")
    assert result.exit_code == 0, result.output
    breakdown = json.loads(result.stdout)["questions"][0]["breakdown"]
    assert breakdown["by"] == "gender" and breakdown["label"] == "Your gender?"
    assert breakdown["groups"][-1]["id"] is None
    assert breakdown["groups"][-1]["label"] == "Not stated"
    cells = [
        cell
        for group in breakdown["groups"]
        for cell in [*group["options"], group["unparsed"], group["skipped"], group["no_answer"]]
    ]
    hidden = [c for c in cells if isinstance(c["count"], str)]
    assert hidden and all(c["count"] == "<5" and c["percent"] is None for c in hidden)
    assert all(c["count"] >= 5 for c in cells if not isinstance(c["count"], str))
