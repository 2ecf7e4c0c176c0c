"""Messages of no one consultation: built in, or as a consultation in the language has it."""

from __future__ import annotations

from gateway.consultation.catalogue import load_catalog
from gateway.consultation.model import Catalog
from gateway.consultation.system_messages import catalog_message
from tests.conftest import FIXTURE_FLOWS, UNSEEN_LANGUAGE_FLOWS


def test_built_in_languages_use_the_built_in_texts() -> None:
    catalog = load_catalog([FIXTURE_FLOWS])
    assert catalog_message(catalog, "opted_out", "sw").startswith("Hutapokea ujumbe zaidi.")
    assert catalog_message(catalog, "no_consultation", "en", keywords="WATER") == (
        "To take part, text one of: WATER"
    )


def test_a_language_a_consultation_brings_uses_that_consultations_text() -> None:
    catalog = load_catalog([UNSEEN_LANGUAGE_FLOWS])
    assert catalog_message(catalog, "opted_out", "ar") == "لن تصلك رسائل أخرى. أرسل ابدأ للعودة."
    assert catalog_message(catalog, "no_consultation", "ar", keywords="ماء") == (
        "للمشاركة، أرسل واحدة من: ماء"
    )
    assert catalog_message(catalog, "opted_out", "en").startswith("You will get no more")


def test_a_language_nobody_brings_falls_back_to_english() -> None:
    assert catalog_message(Catalog(), "opted_in", "xx") == (
        "Welcome back. Text a keyword to take part."
    )
