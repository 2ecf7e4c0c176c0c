"""The dashboard's Outreach pages through Flask's test client (SQLite and PostgreSQL):
defining, previewing, starting, pausing, cancelling, progress, and accessible forms."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from gateway.central.store.outreach import OutreachStore, ProgressReport
from tests.central.officials.dashboard import CID, NOW, Dashboard
from tests.central.officials.outreach_survey import answer_priority, publish_outreach_survey

FORM = {
    "consultation": CID, "kind": "invitation", "source": "participants",
    "participants": "all", "channels": ["sms"], "starts_at": "2026-06-02T08:00",
    "ends_at": "2026-06-09T20:00", "hours_from": "08:00", "hours_to": "20:00",
    "languages": "", "regions": "", "list": "", "text_en": "", "text_sw": "",
}  # fmt: skip


class Controls(HTMLParser):
    """Form controls without a label, and labels' `for`s."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.label_for: set[str] = set()
        self.in_label = 0
        self.unlabelled_inline = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "label":
            self.in_label += 1
            if a.get("for"):
                self.label_for.add(a["for"] or "")
        elif tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            if self.in_label:
                return
            if a.get("id"):
                self.ids.append(a["id"] or "")
            else:
                self.unlabelled_inline += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.in_label -= 1


def signed_in(dashboard: Dashboard, closed: bool = False) -> Dashboard:
    publish_outreach_survey(dashboard.engine, closed=closed)
    dashboard.sign_in("ada")
    return dashboard


def create(dashboard: Dashboard, **changes: object):  # type: ignore[no-untyped-def]
    token = dashboard.csrf("/officials/outreach")
    return dashboard.client.post("/officials/outreach", data={**FORM, **changes,
                                                              "csrf_token": token})  # fmt: skip


def test_the_page_lists_nothing_yet_and_its_form_is_labelled(dashboard: Dashboard) -> None:
    signed_in(dashboard)
    page = dashboard.client.get("/officials/outreach").get_data(as_text=True)
    assert "No outreach has been defined yet." in page
    assert '<a href="/officials/outreach">Outreach</a>' in page  # in the navigation
    controls = Controls()
    controls.feed(page)
    assert controls.unlabelled_inline == 0
    assert set(controls.ids) <= controls.label_for, set(controls.ids) - controls.label_for
    assert {"consultation", "starts_at", "ends_at", "text_en", "text_sw"} <= set(controls.ids)
    assert page.count("<legend>") == 5


def test_an_official_defines_an_invitation_as_a_draft(dashboard: Dashboard) -> None:
    signed_in(dashboard)
    made = create(dashboard, languages="sw", text_sw="Tuma {keyword} sasa. Jibu STOP kuacha.")
    assert made.status_code == 303
    outreach_id = made.headers["Location"].rsplit("/", 1)[1]
    assert re.fullmatch(r"o-[0-9a-f]{12}", outreach_id)
    [stored] = OutreachStore(dashboard.engine).all()
    assert (stored.id, stored.status.value, stored.created_by) == (outreach_id, "draft", "ada")
    assert stored.fields.texts == {"sw": "Tuma SURVEY sasa. Jibu STOP kuacha."}
    page = dashboard.client.get(f"/officials/outreach/{outreach_id}").get_data(as_text=True)
    assert "Tuma SURVEY sasa. Jibu STOP kuacha." in page
    assert "No gateway has reported a preview yet" in page
    assert ">Start sending</button>" in page and ">Cancel for good</button>" in page
    assert ">Pause</button>" not in page
    listed = dashboard.client.get("/officials/outreach").get_data(as_text=True)
    assert f"<code>{outreach_id}</code>" in listed


def test_a_form_with_problems_comes_back_with_everything_typed(dashboard: Dashboard) -> None:
    signed_in(dashboard)
    answer = create(dashboard, text_en="Come and answer {keyword}!", regions="Kisumu, Garissa",
                    ends_at="2026-06-01T07:00")  # fmt: skip
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert 'role="alert"' in page and "The outreach was not saved." in page
    assert "must be after starts_at" in page
    assert "an invitation must tell people how to stop" in page
    assert "Come and answer {keyword}!</textarea>" in page
    assert 'value="Kisumu, Garissa"' in page
    assert OutreachStore(dashboard.engine).all() == []


def test_posting_without_the_csrf_token_is_refused(dashboard: Dashboard) -> None:
    signed_in(dashboard)
    answer = dashboard.client.post("/officials/outreach", data=FORM)
    assert answer.status_code == 400
    assert OutreachStore(dashboard.engine).all() == []


def test_start_pause_resume_and_cancel(dashboard: Dashboard) -> None:
    signed_in(dashboard)
    outreach_id = create(dashboard).headers["Location"].rsplit("/", 1)[1]
    page_path = f"/officials/outreach/{outreach_id}"
    store = OutreachStore(dashboard.engine)

    def act(action: str):  # type: ignore[no-untyped-def]
        token = dashboard.csrf(page_path)
        return dashboard.client.post(f"{page_path}/{action}", data={"csrf_token": token})

    assert act("start").status_code == 303
    assert (store.require(outreach_id).status.value, store.require(outreach_id).version) == (
        "started", 2,
    )  # fmt: skip
    assert ">Pause</button>" in dashboard.client.get(page_path).get_data(as_text=True)
    assert act("pause").status_code == 303
    assert ">Resume sending</button>" in dashboard.client.get(page_path).get_data(as_text=True)
    assert act("start").status_code == 303 and act("cancel").status_code == 303
    assert store.require(outreach_id).status.value == "cancelled"
    refused = act("start")
    assert refused.status_code == 400
    assert "is cancelled: it cannot be started" in refused.get_data(as_text=True)
    assert dashboard.client.post(f"{page_path}/delete", data={
        "csrf_token": dashboard.csrf(page_path)}).status_code == 404  # fmt: skip
    assert dashboard.client.get("/officials/outreach/o-000000000000").status_code == 404


def test_preview_and_progress_sum_the_gateways_latest_reports(dashboard: Dashboard) -> None:
    signed_in(dashboard)
    outreach_id = create(dashboard).headers["Location"].rsplit("/", 1)[1]
    store = OutreachStore(dashboard.engine)

    def preview(sw: int, en: int, encoding: str, opted_out: int) -> dict[str, object]:
        return {"recipients": [{"language": "sw", "channel": "sms", "count": sw},
                               {"language": "en", "channel": "sms", "count": en}],
                "segments": {"encoding": encoding, "per_message": 1 if encoding == "GSM-7"
                             else 2, "total": sw + en},
                "excluded": {"opted_out": opted_out, "invalid_number": 1}}  # fmt: skip

    for gateway, sw, en, encoding, sent in (("gw-1", 800, 12, "GSM-7", 90),
                                             ("gw-2", 200, 0, "UCS-2", 10)):  # fmt: skip
        store.store_progress(gateway, [ProgressReport(
            outreach_id=outreach_id, gateway=gateway, version=1, received_at=NOW,
            counts={"pending": 5, "sent": sent, "delivered": sent // 2}, answered=3,
            preview=preview(sw, en, encoding, 4),
        )])  # fmt: skip
    page = dashboard.client.get(f"/officials/outreach/{outreach_id}").get_data(as_text=True)
    assert "From the latest preview of 2 gateways." in page
    assert "<dd>1,012</dd>" in page  # recipients
    assert "<dd>2 (UCS-2)</dd>" in page  # one gateway's texts need UCS-2
    assert '<th scope="row">sw</th><td>sms</td><td class="num">1,000</td>' in page
    assert '<th scope="row">opted out</th><td class="num">8</td>' in page
    assert '<th scope="row">gw-1</th>' in page and '<th scope="row">gw-2</th>' in page
    totals = page.split("All gateways", 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r'<td class="num">([\d,]+)</td>', totals)
    # pending, sending, sent, delivered, failed, excluded, answered
    assert cells == ["10", "0", "100", "50", "0", "0", "6"]


def test_results_are_filled_from_the_tallies_after_close(dashboard: Dashboard) -> None:
    signed_in(dashboard, closed=True)
    answer_priority(dashboard.engine, ["water", "water", "roads", "water"])
    made = create(dashboard, kind="results", starts_at="2026-06-02T08:00",
                  ends_at="2026-06-03T20:00")  # fmt: skip
    assert made.status_code == 303, made.get_data(as_text=True)
    [stored] = OutreachStore(dashboard.engine).all()
    assert stored.fields.texts == {
        "en": "4 people took part. First: Water points (75%).",
        "sw": "Watu 4 walishiriki. Kwanza: Vituo vya maji (75%).",
    }


def test_results_of_an_open_consultation_are_refused(dashboard: Dashboard) -> None:
    signed_in(dashboard)
    answer_priority(dashboard.engine, ["water"])
    answer = create(dashboard, kind="results")
    assert answer.status_code == 400
    assert "results can be defined once survey-test has closed" in answer.get_data(as_text=True)
