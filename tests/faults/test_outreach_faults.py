"""An invitation to 5,000 contacts sent through faults: the worker SIGKILLed mid-send,
Redis stopped and started empty, Twilio (a stand-in on loopback, reached through the real
client with TWILIO_API_URL) answering 429 and 500 for a while, and recipients texting
STOP while it runs. Afterwards every eligible number got exactly one message, none two,
and no number got one after its STOP was answered."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from gateway.store import schema
from tests.faults.cluster import AUTH_TOKEN, Cluster, running_cluster, wait_for
from tests.twilio_outbound import ACCOUNT, Scripted, TwilioOutbound, serving_twilio_outbound
from tests.twilio_signing import new_sid

pytestmark = pytest.mark.faults

RECIPIENTS = 5_000
STOPPERS = 50  # recipients who text STOP while the outreach runs
FROM = "+254700000009"
LIST = "fault-drill"
TEXT = "Water survey: text WATER to 40404. Reply STOP to stop."
OUTAGE = 3.0
DONE_WITHIN = 600.0  # seconds for every row to reach a final state


def phone(n: int) -> str:
    return f"+2547110{n:05d}"


@pytest.fixture
def twilio() -> Iterator[TwilioOutbound]:
    with serving_twilio_outbound() as stand_in:
        yield stand_in


@pytest.fixture
def cluster(tmp_path: Path, twilio: TwilioOutbound) -> Iterator[Cluster]:
    def configure(cluster: Cluster) -> None:
        cluster.extra_env.update(
            TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_FROM_NUMBER=FROM, TWILIO_API_URL=twilio.url,
            PUBLIC_BASE_URL=cluster.gateway_url, SMS_PER_SECOND="100",
        )

    with running_cluster(tmp_path, configure) as started:
        yield started


def import_contacts(cluster: Cluster, tmp_path: Path) -> None:
    rows = "\n".join(f"{phone(n)},en" for n in range(RECIPIENTS))
    csv = tmp_path / "contacts.csv"
    csv.write_text(f"phone,language\n{rows}\n", encoding="utf-8")
    env = cluster.gateway_env(cluster.central_url)
    cluster._cli(["contacts", "import", str(csv), "--list", LIST,
                  "--basis", "consent recorded at the 2026 water baraza"], env)


def start_invitation(cluster: Cluster) -> str:
    now = datetime.now(UTC)
    env = cluster.base_env()
    made = cluster._cli(
        ["outreach", "create", "water-test", "--kind", "invitation", "--audience", "contacts",
         "--list", LIST, "--starts", now.isoformat(timespec="seconds"),
         "--ends", (now + timedelta(days=1)).isoformat(timespec="seconds"),
         "--hours-from", "00:00", "--hours-to", "23:59", "--text", f"en={TEXT}",
         "--text", "sw=Utafiti wa maji: tuma MAJI kwa 40404. Jibu STOP kuacha."], env)
    outreach_id = next(word for word in made.split() if word.startswith("o-"))
    cluster._cli(["outreach", "start", outreach_id], env)
    return outreach_id


def text_stop(cluster: Cluster, number: str) -> float:
    """STOP from `number`, signed as Twilio signs it; when its answer came (time.time())."""
    url = f"{cluster.gateway_url}/twilio/sms"
    sid = new_sid("SM")
    form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT, "From": number,
            "To": FROM, "Body": "STOP"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    for _ in range(100):  # retried as Twilio would, while the gateway is busy
        try:
            answer = requests.post(url, data=form, timeout=10,
                                   headers={"X-Twilio-Signature": signature})
        except requests.RequestException:
            time.sleep(0.2)
            continue
        if answer.status_code == 200:
            return time.time()
        assert answer.status_code >= 500, answer.text
        time.sleep(0.2)
    raise AssertionError(f"STOP from {number} was never answered")


def rows_by_state(cluster: Cluster) -> Counter[str]:
    table = schema.outbound_messages
    with cluster.gateway_engine.connect() as conn:
        found = conn.execute(select(table.c.state, func.count()).group_by(table.c.state))
        return Counter({state: count for state, count in found})


def unfinished(cluster: Cluster) -> bool:
    states = rows_by_state(cluster)
    return sum(states.values()) < RECIPIENTS or states["pending"] + states["sending"] > 0


def logs(cluster: Cluster) -> str:
    return "\n".join(f"--- {name}\n{cluster.procs[name].log_tail(15)}"
                     for name in ("web", "worker", "sweep"))


def sent_to(twilio: TwilioOutbound) -> set[str]:
    with twilio.lock:
        return {message["to"] for message in twilio.messages}


def test_an_invitation_reaches_each_number_once_through_faults(
    cluster: Cluster, twilio: TwilioOutbound, tmp_path: Path,
) -> None:
    import_contacts(cluster, tmp_path)
    start_invitation(cluster)
    wait_for(lambda: len(sent_to(twilio)) >= 500, 120,
             f"the first 500 invitations; logs:\n{logs(cluster)}")

    with twilio.lock:
        twilio.hold_next = True
    wait_for(twilio.holding.is_set, 60, "a request held by the stand-in")
    killed = cluster.kill("worker")  # Twilio took its request; the row still says sending
    assert killed
    twilio.release.set()
    with twilio.lock:
        twilio.script.extend([Scripted(429, retry_after="1")] * 20 + [Scripted(500)] * 20)
    cluster.start_worker()

    stops: dict[str, float] = {}
    waiting = [phone(n) for n in range(RECIPIENTS - 1, 0, -1) if phone(n) not in sent_to(twilio)]
    for number in waiting[:STOPPERS // 2]:
        stops[number] = text_stop(cluster, number)

    cluster.stop("redis")  # the queue and its jobs are gone; the store is the record
    time.sleep(OUTAGE)
    cluster.start_redis()
    cluster.supervise()
    waiting = [n for n in waiting[STOPPERS // 2:] if n not in sent_to(twilio)]
    for number in waiting[:STOPPERS - len(stops)]:
        stops[number] = text_stop(cluster, number)

    wait_for(lambda: not unfinished(cluster), DONE_WITHIN,
             f"every outbound row to reach a final state ({rows_by_state(cluster)}); "
             f"logs:\n{logs(cluster)}", interval=1.0)

    with twilio.lock:
        messages = list(twilio.messages)
    received = Counter(message["to"] for message in messages)
    twice = {number: count for number, count in received.items() if count > 1}
    assert twice == {}, f"{len(twice)} numbers got the invitation more than once"
    after_stop = [m["to"] for m in messages
                  if m["to"] in stops and m["accepted_at"] > stops[m["to"]]]
    assert after_stop == [], "numbers got the invitation after their STOP was answered"
    eligible = {phone(n) for n in range(RECIPIENTS)} - set(stops)
    assert eligible <= set(received), f"{len(eligible - set(received))} numbers got nothing"
    assert {m["body"] for m in messages} == {TEXT}
    states = rows_by_state(cluster)
    assert states["failed"] == 0, states
    assert states["sent"] + states["delivered"] == len(received)
    assert states["excluded"] == RECIPIENTS - len(received)
