"""What a call says: each question's prompt and keys, answers read back, single messages."""

from __future__ import annotations

from gateway.consultation.model import Catalog, Consultation
from gateway.consultation.voice_prompts import (
    Pause,
    Speech,
    question_prompt,
    repeat_hint,
    said,
)


def water(catalog: Catalog) -> Consultation:
    consultation = catalog.get("water-test")
    assert consultation is not None
    return consultation


def test_a_choice_prompt_reads_the_options_from_their_labels(catalog: Catalog) -> None:
    consultation = water(catalog)
    priority = consultation.questions[0]
    assert question_prompt(consultation, priority, "sw") == (
        Speech("Kaunti irekebishe nini kwanza?", "sw", audio="priority"),
        Pause(1),
        Speech("Kwa Vituo vya maji, bonyeza 1. Kwa Barabara, bonyeza 2. Kwa Zahanati, "
               "bonyeza 3. Kwa Shule, bonyeza 4.", "sw", audio="priority.options"),
        Speech("Bonyeza nyota kusikiliza tena.", "sw"),
    )


def test_the_keys_of_each_question_type(catalog: Catalog) -> None:
    consultation = water(catalog)

    def keys(question_index: int) -> Speech:
        segment = question_prompt(consultation, consultation.steps[question_index], "en")[2]
        assert isinstance(segment, Speech)
        return segment

    assert keys(1) == Speech("Press 1 for Yes or 2 for No.", "en", audio="enough.options")
    assert keys(2) == Speech("Press a key from 1 to 5.", "en", audio="satisfaction.options")
    age_band = keys(4)  # a profile question: it may be skipped
    assert age_band.text.endswith("For 60 or older, press 4. Press 0 to skip.")


def test_a_text_prompt_ends_with_the_instruction_before_the_beep(catalog: Catalog) -> None:
    consultation = water(catalog)
    comment = consultation.questions[3]
    assert question_prompt(consultation, comment, "en") == (
        Speech("Any other comment?", "en", audio="comment"),
        Pause(1),
        Speech("Press 0 to skip.", "en", audio="comment.options"),
        Speech("Press star to repeat.", "en"),
        Speech("After the beep, say your comment, then press hash.", "en"),
    )


def test_a_message_is_the_consultations_own_text_when_it_has_one(catalog: Catalog) -> None:
    consultation = water(catalog)
    assert said("thanks", "en", consultation) == Speech("Thank you for your voice.", "en")
    assert said("voice_goodbye", "sw") == Speech("Kwaheri.", "sw")  # no consultation: built in
    assert repeat_hint("sw") == Speech("Bonyeza nyota kusikiliza tena.", "sw")
