"""The consultations list and a consultation's page (SQLite and PostgreSQL): results,
breakdowns, gateways' sync, and results under embargo."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from gateway.settings import Settings
from tests.central.officials.dashboard import CID, Dashboard, make_dashboard
from tests.central.officials.population import event, insert_events, publish, survey


def test_consultations_list(with_results: Dashboard) -> None:
    with_results.sign_in("ada")
    response = with_results.client.get("/officials/")
    page = response.get_data(as_text=True)
    assert "County services survey" in page and "survey-test" in page
    assert '<span class="status status-open">open</span>' in page
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert header in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_consultation_page(with_results: Dashboard) -> None:
    with_results.sign_in("ada")
    page = with_results.client.get(f"/officials/consultations/{CID}").get_data(as_text=True)
    assert page.count("<figure>") == 7 and page.count("<figcaption>") == 7
    assert page.count('<div class="chart"') == 7 and 'role="img"' in page
    assert page.count('<table class="tally">') == 7
    assert '<select id="by" name="by">' in page and '<button type="submit">Show</button>' in page
    assert f"/officials/consultations/{CID}/tallies.csv" in page
    assert f'action="/officials/consultations/{CID}/exports"' in page
    assert 'value="open-data.zip"' in page and 'value="responses.csv"' in page
    assert "No contact for 3 h" in page  # the gateway's sync health, in words
    assert '<td class="num">12</td>' in page  # its backlog
    assert "&lt;5" not in page  # overall tallies are never suppressed

    page = with_results.client.get(f"/officials/consultations/{CID}?by=age_band").get_data(
        as_text=True
    )
    assert '<option value="age_band" selected>' in page
    assert page.count('<table class="breakdown"') == 7
    assert "&lt;5" in page and "Not stated" in page
    assert f"/officials/consultations/{CID}/tallies.csv?by=age_band" in page
    # Each table with a hidden cell says what "<5" means, right where it appears.
    tables = page.split('<table class="breakdown"')[1:]
    explained = [t for t in tables if "&lt;5" in t.split("</table>")[0]]
    assert explained
    for table in explained:
        note = re.search(r'aria-describedby="([^"]+)"', table.split(">")[0])
        assert note, table[:200]
        after = table.split("</table>")[1].split("<section")[0]
        assert f'id="{note.group(1)}"' in after and "fewer than 5 people" in after

    page = with_results.client.get(f"/officials/consultations/{CID}?by=channel").get_data(
        as_text=True
    )
    assert page.count('<table class="breakdown"') == 7
    assert "&lt;5" not in page and "fewer than" not in page


def test_unknown_consultation_and_breakdown(with_results: Dashboard) -> None:
    with_results.sign_in("ada")
    missing = with_results.client.get("/officials/consultations/nope")
    assert missing.status_code == 404
    assert "No published consultation" in missing.get_data(as_text=True)
    bad = with_results.client.get(f"/officials/consultations/{CID}?by=comment")
    assert bad.status_code == 400
    assert "cannot be broken down by" in bad.get_data(as_text=True)


def test_embargoed_results_stay_hidden_until_closing(
    dashboard: Dashboard, officials_settings: Settings
) -> None:
    consultation, definition = survey("embargo: true\n")
    publish(dashboard.engine, definition, CID)
    insert_events(dashboard.engine, [event(CID, "priority", "p1", value="water")])
    base = f"/officials/consultations/{CID}"

    dashboard.sign_in("ada")
    page = dashboard.client.get(base).get_data(as_text=True)
    assert "Results under embargo" in page and "Water points" not in page
    assert "tallies.csv" not in page
    for path in ("tallies.csv", "tallies.json"):
        refused = dashboard.client.get(f"{base}/{path}")
        assert refused.status_code == 403
        assert "under embargo until it closes" in refused.get_data(as_text=True)

    admin = make_dashboard(dashboard.engine, officials_settings, dashboard.clock)
    admin.sign_in("root")
    page = admin.client.get(base).get_data(as_text=True)
    assert "Results under embargo" in page and "Water points" not in page
    assert "As an administrator you can still export them" in page
    tallies = admin.client.get(f"{base}/tallies.json")
    assert tallies.status_code == 200
    assert json.loads(tallies.get_data())["questions"][0]["options"][0]["total"] == 1

    dashboard.clock.now = consultation.closes + timedelta(seconds=1)
    dashboard.sign_in("ada")  # years later: the session of then has expired
    page = dashboard.client.get(base).get_data(as_text=True)
    assert "Results under embargo" not in page and "Water points" in page
    assert dashboard.client.get(f"{base}/tallies.csv").status_code == 200
