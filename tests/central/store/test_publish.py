"""Publishing consultations to the centre, and the `civicline central` commands."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.central.store import schema
from gateway.central.store.central_store import CentralStore, PublishRefused, Receipt
from gateway.central.validation import parse_batch
from gateway.cli import cli
from gateway.consultation.reading import FlowsInvalid
from tests.conftest import FIXTURE_FLOWS
from tests.live import make_event

WATER = (FIXTURE_FLOWS / "water.yaml").read_text()
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def store(central_database_url: str) -> CentralStore:
    store = CentralStore.from_url(central_database_url)
    store.create_schema()
    yield store
    store.engine.dispose()


def respond(store: CentralStore, **overrides: object) -> Receipt:
    store.add_gateway("gw", NOW, replace=True)
    batch, problems = parse_batch({"events": [make_event(**overrides)]})
    assert batch is not None, problems
    return store.receive("gw", batch, NOW)


def without_option(text: str, option: str) -> str:
    lines = text.splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if f"- id: {option}" in line)
    return "".join(lines[:index] + lines[index + 2:])  # the id line and its label line


def test_first_publish_is_version_1_and_same_text_changes_nothing(store: CentralStore) -> None:
    first = store.publish(WATER, "water.yaml", NOW)
    assert (first.id, first.version, first.changed) == ("water-test", 1, True)
    again = store.publish(WATER, "water.yaml", NOW)
    assert (again.version, again.changed) == (1, False)
    [published] = store.consultations()
    assert (published.id, published.version, published.definition) == ("water-test", 1, WATER)


def test_invalid_definition_is_refused_as_the_loader_reports_it(store: CentralStore) -> None:
    broken = WATER.replace("type: scale", "type: slider")
    with pytest.raises(FlowsInvalid) as raised:
        store.publish(broken, "water.yaml", NOW)
    assert "water.yaml" in str(raised.value)
    assert "questions[2].type" in str(raised.value)
    assert store.consultations() == []


def test_without_responses_anything_may_change(store: CentralStore) -> None:
    store.publish(WATER, "water.yaml", NOW)
    outcome = store.publish(without_option(WATER, "clinics"), "water.yaml", NOW)
    assert (outcome.version, outcome.changed) == (2, True)


def test_with_responses_questions_and_options_can_be_added(store: CentralStore) -> None:
    store.publish(WATER, "water.yaml", NOW)
    respond(store)
    extra_option = WATER.replace(
        "      - id: schools\n",
        "      - id: markets\n        label: {en: Markets, sw: Masoko}\n      - id: schools\n",
    )
    # The profile block comes after the questions in the file: add the question before it.
    extra_question = extra_option.replace(
        "profile:\n",
        "  - id: district\n    type: text\n    optional: true\n"
        "    prompt: {en: \"Your district?\", sw: \"Wilaya yako?\"}\nprofile:\n",
    )
    outcome = store.publish(extra_question, "water.yaml", NOW)
    assert (outcome.version, outcome.changed) == (2, True)


def test_with_responses_losing_a_question_or_option_is_refused(store: CentralStore) -> None:
    store.publish(WATER, "water.yaml", NOW)
    respond(store)
    with pytest.raises(PublishRefused) as no_option:
        store.publish(without_option(WATER, "clinics"), "water-v2.yaml", NOW)
    message = str(no_option.value)
    assert "water-v2.yaml" in message
    assert "option 'clinics' of question 'priority'" in message
    assert "1 responses" in message

    no_question = WATER.replace(
        "  - id: enough\n    type: yes_no\n    prompt: {en: \"Do you have enough water at home?\","
        " sw: \"Je, una maji ya kutosha nyumbani?\"}\n", "")
    assert no_question != WATER
    with pytest.raises(PublishRefused, match="question 'enough'"):
        store.publish(no_question, "water.yaml", NOW)

    retyped = WATER.replace("    type: scale\n    min: 1\n    max: 5\n", "    type: text\n")
    with pytest.raises(PublishRefused, match="'satisfaction' would change type"):
        store.publish(retyped, "water.yaml", NOW)
    rescaled = WATER.replace("    max: 5\n", "    max: 4\n")
    with pytest.raises(PublishRefused, match="scale from 1-5 to 1-4"):
        store.publish(rescaled, "water.yaml", NOW)
    [published] = store.consultations()
    assert (published.version, published.definition) == (1, WATER)


def test_keywords_and_voice_numbers_must_stay_unique(store: CentralStore) -> None:
    store.publish(WATER, "water.yaml", NOW)
    clash = (FIXTURE_FLOWS / "closed.yaml").read_text().replace("[ROADS]", "[ROADS, MAJI]")
    with pytest.raises(PublishRefused, match="keyword 'MAJI' is already used by consultation "
                                             "'water-test'"):
        store.publish(clash, "closed.yaml", NOW)
    store.publish((FIXTURE_FLOWS / "closed.yaml").read_text(), "closed.yaml", NOW)
    assert [c.id for c in store.consultations()] == ["roads-2025", "water-test"]


def test_etag_changes_with_every_publish(store: CentralStore) -> None:
    empty = store.catalog_etag()
    store.publish(WATER, "water.yaml", NOW)
    first = store.catalog_etag()
    assert first != empty
    store.publish(WATER, "water.yaml", NOW)
    assert store.catalog_etag() == first
    store.publish(WATER.replace("Water services", "Water"), "water.yaml", NOW)
    assert store.catalog_etag() != first


# --- the commands ----------------------------------------------------------------------------


def test_published_definitions_are_parsed_once_per_version(store: CentralStore) -> None:
    """What the API checks each batch against: parsed once per (id, version), not per
    batch; a republish is seen by the next batch, by any web process."""
    assert store.published_consultations() == {}
    store.publish(WATER, "water.yaml", NOW)
    first = store.published_consultations()
    assert list(first) == ["water-test"]
    assert first["water-test"] is not None and first["water-test"].opens.year == 2026
    assert store.published_consultations()["water-test"] is first["water-test"]  # cached

    other = CentralStore(store.engine)  # another web process publishes version 2
    other.publish(WATER.replace("Water services", "Water service"), "water.yaml", NOW)
    second = store.published_consultations()["water-test"]
    assert second is not first["water-test"]
    assert second is not None and second.title["en"] == "Water service"
    assert store.published_consultations()["water-test"] is second
    assert list(store._parsed) == [("water-test", 2)]  # version 1 is let go

    with store.engine.begin() as conn:  # a centre once laxer than this one
        conn.execute(schema.consultations.update().values(
            version=3, definition=WATER.replace("type: scale", "type: slider")))
    assert store.published_consultations() == {"water-test": None}


def test_add_gateway_prints_the_token_once_and_keeps_its_hash(
    central_database_url: str, store: CentralStore
) -> None:
    runner = CliRunner()
    env = {"CENTRAL_DATABASE_URL": central_database_url}
    result = runner.invoke(cli, ["central", "add-gateway", "kisumu-1"], env=env)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert len(token) >= 40
    assert "shown only now" in result.stderr
    with store.engine.connect() as conn:
        stored_hash = conn.execute(
            select(schema.gateways.c.token_hash).where(schema.gateways.c.name == "kisumu-1")
        ).scalar_one()
    assert stored_hash == hashlib.sha256(token.encode()).hexdigest()
    assert store.authenticate(token) == "kisumu-1"

    again = runner.invoke(cli, ["central", "add-gateway", "kisumu-1"], env=env)
    assert again.exit_code == 1
    assert "--rotate" in again.output
    rotated = runner.invoke(cli, ["central", "add-gateway", "kisumu-1", "--rotate"], env=env)
    assert rotated.exit_code == 0
    assert store.authenticate(token) is None
    assert store.authenticate(rotated.stdout.strip()) == "kisumu-1"
    bad = runner.invoke(cli, ["central", "add-gateway", "no spaces"], env=env)
    assert bad.exit_code == 1


def test_publish_command(central_database_url: str, store: CentralStore, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"CENTRAL_DATABASE_URL": central_database_url}
    ok = runner.invoke(cli, ["central", "publish", str(FIXTURE_FLOWS / "water.yaml")], env=env)
    assert ok.exit_code == 0, ok.output
    assert "published water-test version 1" in ok.output
    respond(store)
    shrunk = tmp_path / "water.yaml"
    shrunk.write_text(without_option(WATER, "roads"))
    refused = runner.invoke(cli, ["central", "publish", str(shrunk)], env=env)
    assert refused.exit_code == 1
    assert "option 'roads' of question 'priority'" in refused.stderr
    clash = tmp_path / "clash.yaml"
    clash.write_text(WATER.replace("aliases: {en: [tap]}", "aliases: {en: [water, tap]}"))
    keyword = runner.invoke(cli, ["central", "publish", str(clash)], env=env)
    assert keyword.exit_code == 1
    assert "clash.yaml: questions[0].options[0].aliases.en[0]: 'water' is also the keyword " \
        "WATER" in keyword.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: Bad Id\n")
    invalid = runner.invoke(cli, ["central", "publish", str(broken)], env=env)
    assert invalid.exit_code == 1
    assert "broken.yaml" in invalid.stderr
    listing = runner.invoke(cli, ["central", "gateways"], env=env)
    assert "gw: last contact" in listing.output
    assert [c.version for c in store.consultations()] == [1]


def test_a_keyword_published_as_an_alias_can_be_fixed_later(store: CentralStore) -> None:
    """Published before keywords that are answers were refused, with responses since: the
    stored version still reads, so a version without the alias can replace it."""
    clashing = WATER.replace("aliases: {en: [tap]}", "aliases: {en: [water, tap]}")
    assert clashing != WATER
    store.publish(clashing, "water.yaml", NOW)
    respond(store)
    outcome = store.publish(WATER, "water.yaml", NOW)
    assert (outcome.changed, outcome.version) == (True, 2)
