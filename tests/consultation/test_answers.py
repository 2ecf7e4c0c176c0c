"""Reply parsing: every accepted form, every refusal, and the localized hints."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from gateway.consultation.answers import (
    Answer,
    Invalid,
    answer_label,
    normalise,
    parse_keypad,
    parse_sms_answer,
    to_ascii_digits,
)
from gateway.consultation.messages import BUILTIN, PLACEHOLDERS, placeholders
from gateway.consultation.model import Catalog, Consultation, Option, Question, QuestionType

OPENS = datetime(2026, 12, 1, tzinfo=UTC)
CLOSES = datetime(2027, 1, 31, tzinfo=UTC)


def _text(en: str, sw: str, fr: str) -> dict[str, str]:
    return {"en": en, "sw": sw, "fr": fr}


PRIORITY = Question(
    id="priority",
    type=QuestionType.CHOICE,
    prompt=_text("What first?", "Nini kwanza?", "Quoi d'abord?"),
    options=(
        Option(
            "water",
            _text("Water points", "Vituo vya maji", "Points d'eau"),
            {"en": ("water", "tap"), "sw": ("maji",), "fr": ("eau",)},
        ),
        Option("roads", _text("Roads", "Barabara", "Routes")),
        Option("rural_roads", _text("Rural roads", "Barabara za vijijini", "Pistes rurales")),
        Option("health", _text("Health", "Afya", "Santé"), {"en": ("clinic",)}),
    ),
)
HAPPY = Question(
    id="happy",
    type=QuestionType.YES_NO,
    prompt=_text("Happy?", "Una furaha?", "Content?"),
)
SATISFACTION = Question(
    id="satisfaction",
    type=QuestionType.SCALE,
    prompt=_text("How satisfied?", "Umeridhika kiasi gani?", "Satisfait?"),
    min=1,
    max=5,
)
COMMENT = Question(
    id="comment",
    type=QuestionType.TEXT,
    prompt=_text("Any comment?", "Maoni?", "Commentaire?"),
    optional=True,
    max_length=20,
)
AGE = Question(
    id="age_band",
    type=QuestionType.CHOICE,
    prompt=_text("Your age?", "Umri wako?", "Votre age?"),
    profile=True,
    options=(
        Option("under_18", _text("Under 18", "Chini ya 18", "Moins de 18")),
        Option("18_34", _text("18 to 34", "18 hadi 34", "18 a 34")),
        Option("35_59", _text("35 to 59", "35 hadi 59", "35 a 59")),
        Option("60_plus", _text("60 or older", "60 au zaidi", "60 ou plus")),
    ),
)


def consultation(
    languages: tuple[str, ...] = ("en", "sw"),
    questions: tuple[Question, ...] = (PRIORITY, HAPPY, SATISFACTION, COMMENT),
    messages: Mapping[str, Mapping[str, str]] | None = None,
) -> Consultation:
    """A consultation built directly (no YAML), with texts restricted to `languages`."""

    def only(text: Mapping[str, str]) -> dict[str, str]:
        return {lang: text[lang] for lang in languages}

    def localise(question: Question) -> Question:
        options = tuple(
            replace(
                o,
                label=only(o.label),
                aliases={k: v for k, v in o.aliases.items() if k in languages},
            )
            for o in question.options
        )
        return replace(question, prompt=only(question.prompt), options=options)

    return Consultation(
        id="water-2026",
        title=only(_text("County water", "Maji ya kaunti", "Eau du comte")),
        keywords=("WATER", "MAJI"),
        languages=languages,
        opens=OPENS,
        closes=CLOSES,
        questions=tuple(localise(q) for q in questions),
        profile=(localise(AGE),),
        messages=dict(messages or {}),
    )


EN_SW = consultation()
FR = consultation(languages=("fr", "en"))
SW_ONLY = consultation(languages=("sw",))


def sms(question: Question, raw: str, language: str = "en", c: Consultation = EN_SW):
    return parse_sms_answer(c, c.question(question.id) or question, raw, language)


def keypad(question: Question, digits: str, language: str = "en", c: Consultation = EN_SW):
    return parse_keypad(c, c.question(question.id) or question, digits, language)


# -- normalise / to_ascii_digits --------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ndíyo!! ", "ndiyo"),
        ("WATER", "water"),
        ("ＷＡＴＥＲ", "water"),  # fullwidth letters
        ("Français", "francais"),
        ("Franc\u0327ais", "francais"),  # decomposed accent
        ("ARRÊTER", "arreter"),
        ("Straße", "strasse"),
        ("#1)", "1"),
        ("(2).", "2"),
        ("3/5", "3 5"),
        ("a\tb\n\n  c", "a b c"),
        ("١٢٣", "123"),  # Arabic-Indic
        ("۴۵", "45"),  # Extended Arabic-Indic
        ("१२", "12"),  # Devanagari
        ("１２", "12"),  # fullwidth
        ("৩", "3"),  # Bengali
        ("water 👍 please", "water please"),
        ("zero\u200bwidth", "zerowidth"),
        ("!!! ...", ""),
        ("", ""),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_to_ascii_digits_maps_every_decimal_digit_and_keeps_the_rest() -> None:
    assert to_ascii_digits("١٢ ۳४ ５৬ abc!") == "12 34 56 abc!"
    assert to_ascii_digits("Ndíyo") == "Ndíyo"
    # Superscripts are not decimal digits: only NFKC (in normalise) turns them into 2.
    assert to_ascii_digits("x²") == "x²"
    assert normalise("x²") == "x2"


# -- choice ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", "water"),
        ("1.", "water"),
        ("1)", "water"),
        ("(1)", "water"),
        ("#1", "water"),
        (" 2 ", "roads"),
        ("１", "water"),
        ("٣", "rural_roads"),
        ("۳", "rural_roads"),
        ("४", "health"),
        ("৪", "health"),
        ("one", "water"),
        ("Two", "roads"),
        ("THREE!", "rural_roads"),
        ("moja", "water"),
        ("mbili", "roads"),
        ("tatu", "rural_roads"),
        ("nne", "health"),
        ("a", "water"),
        ("b)", "roads"),
        ("B.", "roads"),
        ("D", "health"),
        ("Water points", "water"),
        ("water points!", "water"),
        ("TAP", "water"),
        ("Roads", "roads"),
        ("rural roads", "rural_roads"),
        ("Vituo vya maji", "water"),
        ("maji", "water"),
        ("barabara", "roads"),
        ("Barabara za vijijini", "rural_roads"),
        ("afya", "health"),
        ("clinic", "health"),
        # a label or alias as whole words inside a longer reply
        ("water please", "water"),
        ("I want a tap in my village", "water"),
        ("tunataka maji safi", "water"),
        ("the roads are bad", "roads"),
        ("fix the rural roads please", "rural_roads"),  # not also "roads"
        ("2 Roads", "roads"),  # copied from the option list
        ("2. barabara", "roads"),
        ("water for 2 days", "water"),
    ],
)
def test_choice_accepted_forms(raw: str, expected: str) -> None:
    assert sms(PRIORITY, raw) == Answer(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("deux", "roads"), ("quatre", "health"), ("Routes", "roads"), ("de l'eau", "water")],
)
def test_choice_french(raw: str, expected: str) -> None:
    assert sms(PRIORITY, raw, "fr", FR) == Answer(expected)


def test_choice_hint_french() -> None:
    assert sms(PRIORITY, "cinq", "fr", FR) == Invalid("Repondez 1 a 4.")


def test_choice_labels_of_every_consultation_language_are_accepted() -> None:
    assert sms(PRIORITY, "vituo vya maji", "en") == Answer("water")
    assert sms(PRIORITY, "water points", "sw") == Answer("water")


def test_choice_english_number_words_work_in_any_consultation() -> None:
    assert sms(PRIORITY, "two", "sw", SW_ONLY) == Answer("roads")
    # but French number words only where French is a consultation language
    assert isinstance(sms(PRIORITY, "deux", "sw", SW_ONLY), Invalid)


def test_choice_labels_are_matched_only_in_the_consultation_languages() -> None:
    assert isinstance(sms(PRIORITY, "routes", "en"), Invalid)
    assert isinstance(sms(PRIORITY, "eau", "en"), Invalid)
    unfiltered = replace(EN_SW, questions=(PRIORITY,))  # a French alias in an en/sw file
    assert isinstance(sms(PRIORITY, "eau", "en", unfiltered), Invalid)
    assert sms(PRIORITY, "maji", "en", unfiltered) == Answer("water")


@pytest.mark.parametrize(
    ("raw", "language", "hint"),
    [
        ("5", "en", "Reply 1 to 4."),
        ("0", "en", "Reply 1 to 4."),
        ("٥", "en", "Reply 1 to 4."),
        ("12", "en", "Reply 1 to 4."),
        ("five", "en", "Reply 1 to 4."),
        ("tano", "sw", "Jibu 1 hadi 4."),
        ("e", "sw", "Jibu 1 hadi 4."),
        ("", "sw", "Jibu 1 hadi 4."),
        ("?!", "sw", "Jibu 1 hadi 4."),
        ("bread", "en", "Reply 1 to 4."),
        ("5 roads", "en", "Reply 1 to 4."),  # number and label disagree
    ],
)
def test_choice_out_of_range_or_unknown(raw: str, language: str, hint: str) -> None:
    assert sms(PRIORITY, raw, language) == Invalid(hint)


@pytest.mark.parametrize(
    "raw",
    [
        "water and roads",
        "maji na barabara",
        "1 roads",  # number and label disagree
        "tap or clinic",
        "1 2",
    ],
)
def test_choice_ambiguous_is_invalid(raw: str) -> None:
    assert sms(PRIORITY, raw) == Invalid("Reply 1 to 4.")


def test_choice_alias_shared_by_two_options_is_invalid() -> None:
    shared = replace(
        PRIORITY,
        options=(
            Option("water", {"en": "Water points"}, {"en": ("public",)}),
            Option("toilets", {"en": "Toilets"}, {"en": ("public",)}),
        ),
    )
    c = consultation(languages=("en",), questions=(shared,))
    assert sms(shared, "public", c=c) == Invalid("Reply 1 to 2.")
    assert sms(shared, "the public one", c=c) == Invalid("Reply 1 to 2.")
    # a shared word tells nothing; the other word decides
    assert sms(shared, "public toilets", c=c) == Answer("toilets")
    assert sms(shared, "toilets", c=c) == Answer("toilets")


def test_choice_label_that_is_another_options_letter_is_invalid() -> None:
    letters = replace(
        PRIORITY,
        options=(Option("plan_b", {"en": "B"}), Option("plan_a", {"en": "Plan A"})),
    )
    c = consultation(languages=("en",), questions=(letters,))
    assert sms(letters, "b", c=c) == Invalid("Reply 1 to 2.")  # option 1's label, letter b
    assert sms(letters, "plan a", c=c) == Answer("plan_a")


def test_choice_age_bands_numbers_in_labels() -> None:
    assert sms(AGE, "2") == Answer("18_34")
    assert sms(AGE, "18 to 34") == Answer("18_34")
    assert sms(AGE, "18 hadi 34", "sw") == Answer("18_34")
    assert sms(AGE, "I am 18 to 34") == Answer("18_34")
    assert sms(AGE, "60 or older please") == Answer("60_plus")
    # a bare age is not an option number
    assert sms(AGE, "25") == Invalid("Reply 1 to 4. Reply SKIP to skip.")


def test_skippable_questions_add_the_skip_hint() -> None:
    assert sms(AGE, "7") == Invalid("Reply 1 to 4. Reply SKIP to skip.")
    assert sms(AGE, "7", "sw") == Invalid("Jibu 1 hadi 4. Jibu RUKA kuruka.")
    optional = replace(PRIORITY, optional=True)
    assert sms(optional, "7", "sw", consultation(questions=(optional,))) == Invalid(
        "Jibu 1 hadi 4. Jibu RUKA kuruka."
    )


def test_hint_for_an_unknown_language_uses_the_default_language() -> None:
    assert sms(PRIORITY, "7", "de") == Invalid("Reply 1 to 4.")


# -- yes / no ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", "yes"),
        ("١", "yes"),
        ("2", "no"),
        ("yes", "yes"),
        ("YES!", "yes"),
        ("y", "yes"),
        ("yeah", "yes"),
        ("Yep.", "yes"),
        ("ok", "yes"),
        ("no", "no"),
        ("N", "no"),
        ("nope", "no"),
        ("ndiyo", "yes"),
        ("Ndio", "yes"),
        ("ndyo", "yes"),
        ("sawa", "yes"),
        ("hapana", "no"),
        ("La!", "no"),
        ("yes yes", "yes"),
        ("ndiyo 1", "yes"),
        ("no, no", "no"),
    ],
)
def test_yes_no_accepted_forms(raw: str, expected: str) -> None:
    assert sms(HAPPY, raw) == Answer(expected)


@pytest.mark.parametrize(
    ("raw", "expected"), [("oui", "yes"), ("O", "yes"), ("Non!", "no"), ("yes", "yes")]
)
def test_yes_no_french(raw: str, expected: str) -> None:
    assert sms(HAPPY, raw, "fr", FR) == Answer(expected)


def test_yes_no_localized_texts_of_every_language_are_accepted() -> None:
    c = consultation(messages={"yes": {"en": "Sure", "sw": "Naam"}, "no": {"sw": "Sivyo"}})
    assert sms(HAPPY, "sure", c=c) == Answer("yes")
    assert sms(HAPPY, "Naam", "en", c) == Answer("yes")
    assert sms(HAPPY, "sivyo", c=c) == Answer("no")
    assert sms(HAPPY, "naam", c=EN_SW) == Invalid("Reply 1 for Yes or 2 for No.")


def test_yes_no_word_meaning_both_is_neither() -> None:
    c = consultation(messages={"no": {"sw": "Sawa"}})  # "sawa" is also a yes word
    assert sms(HAPPY, "sawa", c=c) == Invalid("Reply 1 for Yes or 2 for No.")
    assert sms(HAPPY, "ndiyo", c=c) == Answer("yes")


@pytest.mark.parametrize(
    ("raw", "language", "hint"),
    [
        ("3", "en", "Reply 1 for Yes or 2 for No."),
        ("maybe", "en", "Reply 1 for Yes or 2 for No."),
        ("yes no", "en", "Reply 1 for Yes or 2 for No."),
        ("ndiyo hapana", "sw", "Jibu 1 kwa Ndiyo au 2 kwa Hapana."),
        ("1 2", "sw", "Jibu 1 kwa Ndiyo au 2 kwa Hapana."),
        ("yes I think so", "en", "Reply 1 for Yes or 2 for No."),
        ("oui", "en", "Reply 1 for Yes or 2 for No."),  # French is not a language here
        ("", "en", "Reply 1 for Yes or 2 for No."),
    ],
)
def test_yes_no_invalid(raw: str, language: str, hint: str) -> None:
    assert sms(HAPPY, raw, language) == Invalid(hint)


# -- scale -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", "1"),
        ("4", "4"),
        ("5.", "5"),
        ("٤", "4"),
        ("४", "4"),
        ("５", "5"),
        ("four", "4"),
        ("Three!", "3"),
        ("nne", "4"),
        ("mbili", "2"),
        ("3/5", "3"),
        ("3 / 5", "3"),
        ("٣/٥", "3"),
        ("3 out of 5", "3"),
        ("three out of five", "3"),
        ("tatu kati ya tano", "3"),
        ("4 stars", "4"),
        ("I give it 4", "4"),
        ("4 out of 10", "4"),  # at most one in-range candidate: the first integer
    ],
)
def test_scale_accepted_forms(raw: str, expected: str) -> None:
    assert sms(SATISFACTION, raw) == Answer(expected)


@pytest.mark.parametrize(("raw", "expected"), [("quatre", "4"), ("3 sur 5", "3"), ("deux", "2")])
def test_scale_french(raw: str, expected: str) -> None:
    assert sms(SATISFACTION, raw, "fr", FR) == Answer(expected)


@pytest.mark.parametrize(
    ("raw", "language", "hint"),
    [
        ("0", "en", "Reply a number from 1 to 5."),
        ("6", "en", "Reply a number from 1 to 5."),
        ("٦", "en", "Reply a number from 1 to 5."),
        ("six", "en", "Reply a number from 1 to 5."),
        ("sita", "sw", "Jibu namba kutoka 1 hadi 5."),
        ("between 3 and 4", "en", "Reply a number from 1 to 5."),
        ("3 or 4", "en", "Reply a number from 1 to 5."),
        ("3/4", "en", "Reply a number from 1 to 5."),  # 4 is not the top of the scale
        ("1.5", "en", "Reply a number from 1 to 5."),
        ("10 or 4", "en", "Reply a number from 1 to 5."),  # first integer out of range
        ("good", "en", "Reply a number from 1 to 5."),
        ("this one is good", "en", "Reply a number from 1 to 5."),  # "one" is a pronoun
        ("", "sw", "Jibu namba kutoka 1 hadi 5."),
    ],
)
def test_scale_invalid(raw: str, language: str, hint: str) -> None:
    assert sms(SATISFACTION, raw, language) == Invalid(hint)


def test_scale_zero_to_ten() -> None:
    wide = replace(SATISFACTION, min=0, max=10, optional=True)
    c = consultation(questions=(wide,))
    assert sms(wide, "0", c=c) == Answer("0")
    assert sms(wide, "10", c=c) == Answer("10")
    assert sms(wide, "ten", c=c) == Answer("10")
    assert sms(wide, "kumi", "sw", c) == Answer("10")
    assert sms(wide, "7/10", c=c) == Answer("7")
    assert sms(wide, "11", "sw", c) == Invalid("Jibu namba kutoka 0 hadi 10. Jibu RUKA kuruka.")


# -- text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  More taps please  ", "More taps please"),
        ("Maji\n\nsafi   tafadhali", "Maji safi tafadhali"),
        ("Très bien 👍🏽", "Très bien 👍🏽"),
        ("👍", "👍"),
        ("١٢٣", "١٢٣"),  # kept as written
        ("ok!", "ok!"),
    ],
)
def test_text_keeps_original_characters(raw: str, expected: str) -> None:
    assert sms(COMMENT, raw) == Answer(expected)


def test_text_is_cut_to_max_length() -> None:
    result = sms(COMMENT, "a" * 19 + "bcdef")
    assert result == Answer("a" * 19 + "b")
    long_text = replace(COMMENT, max_length=480)
    c = consultation(questions=(long_text,))
    assert sms(long_text, "x" * 1000, c=c) == Answer("x" * 480)
    assert sms(long_text, "y" * 480, c=c) == Answer("y" * 480)


def test_text_cut_does_not_end_with_a_space() -> None:
    assert sms(COMMENT, "water points are far away") == Answer("water points are far")
    assert sms(COMMENT, "water  points   are     far away") == Answer("water points are far")
    assert sms(COMMENT, "Maji ni mbali sana, kweli") == Answer("Maji ni mbali sana,")


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "...", "?!", " - "])
def test_text_empty_or_punctuation_is_invalid(raw: str) -> None:
    assert sms(COMMENT, raw) == Invalid("Please reply with a few words. Reply SKIP to skip.")
    assert sms(COMMENT, raw, "sw") == Invalid(
        "Tafadhali jibu kwa maneno machache. Jibu RUKA kuruka."
    )


def test_text_hint_without_skip_on_a_required_question() -> None:
    required = replace(COMMENT, optional=False)
    c = consultation(questions=(required,))
    assert sms(required, "!!", c=c) == Invalid("Please reply with a few words.")


# -- keypad ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "expected"), [("1", "water"), ("2", "roads"), ("3", "rural_roads"), ("4", "health")]
)
def test_keypad_choice(digits: str, expected: str) -> None:
    assert keypad(PRIORITY, digits) == Answer(expected)


@pytest.mark.parametrize("digits", ["5", "9", "0", "", "12", "*", "#", "a", "١"])
def test_keypad_choice_invalid(digits: str) -> None:
    assert keypad(PRIORITY, digits) == Invalid("Press a key from 1 to 4.")
    assert keypad(PRIORITY, digits, "sw") == Invalid("Bonyeza kitufe kutoka 1 hadi 4.")


def test_keypad_choice_skippable_adds_skip_key_and_zero_is_not_an_answer() -> None:
    assert keypad(AGE, "2") == Answer("18_34")
    assert keypad(AGE, "0") == Invalid("Press a key from 1 to 4. Press 0 to skip.")
    assert keypad(AGE, "5", "sw") == Invalid("Bonyeza kitufe kutoka 1 hadi 4. Bonyeza 0 kuruka.")
    assert keypad(AGE, "0", "fr", FR) == Invalid(
        "Appuyez sur une touche de 1 à 4. Appuyez sur 0 pour passer."
    )


def test_keypad_yes_no() -> None:
    assert keypad(HAPPY, "1") == Answer("yes")
    assert keypad(HAPPY, "2") == Answer("no")
    for digits in ("3", "0", "", "11", "*"):
        assert keypad(HAPPY, digits) == Invalid("Press 1 for Yes or 2 for No.")
    assert keypad(HAPPY, "3", "sw") == Invalid("Bonyeza 1 kwa Ndiyo au 2 kwa Hapana.")
    assert keypad(HAPPY, "3", "fr", FR) == Invalid("Appuyez sur 1 pour Oui ou 2 pour Non.")


def test_keypad_scale() -> None:
    for key in "12345":
        assert keypad(SATISFACTION, key) == Answer(key)
    for digits in ("0", "6", "9", "", "45", "#"):
        assert keypad(SATISFACTION, digits) == Invalid("Press a key from 1 to 5.")
    assert keypad(SATISFACTION, "6", "sw") == Invalid("Bonyeza kitufe kutoka 1 hadi 5.")


def test_keypad_scale_with_zero() -> None:
    required = replace(SATISFACTION, min=0, max=5)
    c = consultation(questions=(required,))
    assert keypad(required, "0", c=c) == Answer("0")
    assert keypad(required, "6", c=c) == Invalid("Press a key from 0 to 5.")
    # on a skippable question 0 is the skip key, handled before parsing: never an answer
    skippable = replace(required, optional=True)
    c = consultation(questions=(skippable,))
    assert keypad(skippable, "0", c=c) == Invalid("Press a key from 1 to 5. Press 0 to skip.")
    assert keypad(skippable, "5", c=c) == Answer("5")


def test_keypad_scale_hint_names_only_keys_that_exist() -> None:
    wide = replace(SATISFACTION, min=1, max=10)
    c = consultation(questions=(wide,))
    assert keypad(wide, "9", c=c) == Answer("9")
    assert keypad(wide, "10", c=c) == Invalid("Press a key from 1 to 9.")


def test_keypad_text_question_is_refused() -> None:
    with pytest.raises(ValueError, match="comment"):
        keypad(COMMENT, "1")


def test_keypad_ignores_surrounding_whitespace() -> None:
    assert keypad(PRIORITY, " 2 ") == Answer("roads")


# -- messages ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["keys_choice", "keys_yes_no", "keys_scale", "keys_skip"])
def test_keypad_messages_exist_in_every_language_with_declared_placeholders(name: str) -> None:
    assert set(BUILTIN) >= {"en", "sw", "fr"}
    for language, texts in BUILTIN.items():
        assert texts[name].strip(), (language, name)
        assert placeholders(texts[name]) <= PLACEHOLDERS[name], (language, name)
    assert len({texts[name] for texts in BUILTIN.values()}) == len(BUILTIN)  # translated


def test_every_builtin_language_has_every_message() -> None:
    names = set(PLACEHOLDERS)
    for language, texts in BUILTIN.items():
        assert set(texts) == names, language


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("one", "yes"),
        ("Two", "no"),
        ("moja", "yes"),
        ("mbili", "no"),
        ("a", "yes"),
        ("B)", "no"),
        ("1.", "yes"),
        ("٢", "no"),
    ],
)
def test_yes_no_takes_every_form_of_a_number_choice_takes(raw: str, expected: str) -> None:
    """Yes/no reads 1 and 2 as words, letters or any digits, as a choice question does."""
    assert sms(HAPPY, raw) == Answer(expected)
    as_choice = sms(PRIORITY, raw)
    assert as_choice == Answer("water" if expected == "yes" else "roads")


@pytest.mark.parametrize("raw", ["three", "c", "tatu", "0"])
def test_yes_no_numbers_other_than_one_and_two_are_invalid(raw: str) -> None:
    assert sms(HAPPY, raw) == Invalid("Reply 1 for Yes or 2 for No.")


def test_an_answer_reads_as_participants_read_or_hear_it(catalog: Catalog) -> None:
    consultation = catalog.get("water-test")
    assert consultation is not None
    priority, enough, satisfaction, _ = consultation.questions
    assert answer_label(consultation, priority, "roads", "sw") == "Barabara"
    assert answer_label(consultation, priority, "gone", "en") == "gone"
    assert answer_label(consultation, enough, "yes", "sw") == "Ndiyo"
    assert answer_label(consultation, enough, "no", "en") == "No"
    assert answer_label(consultation, satisfaction, "4", "en") == "4"
