"""The voice conversation: call state and a key press in, a VoiceStep out. Pure: no I/O.

A call goes: which consultation (by the number called, else a menu of the open ones),
which language (a menu when there is more than one), a welcome, then one question per
step. The channel turns a VoiceStep into TwiML; the store writes its state and events.
What a call is between two webhooks is in `voice_call`; what it says, in `voice_prompts`.

Made for callers who need time: `*` repeats the question, silence repeats it (at most
MAX_SILENT_REPEATS times) before the question is left unanswered, an invalid key says
which keys are valid, and the chosen answer is read back.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.consultation.answers import Answer, answer_label, parse_keypad
from gateway.consultation.messages import builtin_message
from gateway.consultation.model import (
    AnswerStatus,
    Catalog,
    Consultation,
    Question,
    QuestionType,
    Status,
)
from gateway.consultation.sms_conversation import Recorded
from gateway.consultation.system_messages import catalog_message
from gateway.consultation.voice_call import (
    CONSULTATION_MENU,
    LANGUAGE_MENU,
    CallContext,
    CallInput,
    CallState,
    Collect,
    Keys,
    RecordingResult,
    VoiceStep,
)
from gateway.consultation.voice_prompts import (
    Segment,
    Speech,
    question_prompt,
    said,
)

MAX_SILENT_REPEATS = 2  # silence repeats a prompt this many times, then moves on
REPEAT_KEY = "*"
SKIP_KEY = "0"


# --- entry points -------------------------------------------------------------------------


def start_call(ctx: CallContext, consultation_id: str | None, *, inbound: bool) -> VoiceStep:
    """The first answer to a call; `consultation_id` from the number called or the call-back."""
    state = CallState(step=1)
    consultation = ctx.catalog.get(consultation_id) if consultation_id else None
    if consultation is None:
        return _consultation_menu(ctx, state)
    closed = _not_open(ctx, state, consultation)
    if closed is not None:
        return closed
    if inbound and consultation.voice.callback:
        state = replace(state, consultation_id=consultation.id, finished=True)
        return VoiceStep(state, Collect.REJECT, consultation_id=consultation.id, callback=True)
    return _enter(ctx, state, consultation)


def advance_call(ctx: CallContext, state: CallState, given: CallInput) -> VoiceStep:
    """Apply one action webhook (a key, a silence or a recording) to a call."""
    state = replace(state, step=state.step + 1)
    if state.consultation_id is None:
        return _on_consultation_menu(ctx, state, _digits(given))
    consultation = ctx.catalog.get(state.consultation_id)
    if consultation is None:
        return _goodbye(state, ctx.participant_language or _fallback_language(ctx.catalog))
    if state.finished:
        return _goodbye(state, state.language or consultation.default_language, consultation)
    if consultation.status(ctx.now) is Status.CLOSED:
        language = state.language or consultation.language_or_default(ctx.participant_language)
        closed = Speech(consultation.message("closed", language), language)
        return VoiceStep(replace(state, finished=True), Collect.HANGUP, prompt=(closed,),
                         consultation_id=consultation.id)
    if state.language is None:
        return _on_language_menu(ctx, state, consultation, _digits(given))
    if state.position >= len(consultation.steps):
        return _goodbye(replace(state, finished=True), state.language, consultation)
    question = consultation.steps[state.position]
    if question.type is QuestionType.TEXT:
        return _on_text(ctx, state, consultation, question, given)
    if isinstance(given, RecordingResult):  # a recording for a keypad question: stale
        return _ask(ctx, state, consultation)
    return _on_key(ctx, state, consultation, question, given.digits)


def repeat_current(ctx: CallContext, state: CallState) -> VoiceStep:
    """The current prompt again, with no change: the answer to a stale or unknown action."""
    if state.finished:
        return _goodbye(state, state.language or ctx.participant_language or "en")
    if state.consultation_id is None:
        return _consultation_menu(ctx, state)
    consultation = ctx.catalog.get(state.consultation_id)
    if consultation is None:
        return _goodbye(state, ctx.participant_language or _fallback_language(ctx.catalog))
    if state.language is None:
        return _language_menu(ctx, state, consultation)
    if state.position >= len(consultation.steps):
        return _goodbye(state, state.language, consultation)
    return _ask(ctx, state, consultation)


def hidden_number(language: str) -> VoiceStep:
    """A call from a withheld number: it cannot be counted once, so it is not taken."""
    text = builtin_message("voice_hidden_number", language)
    return VoiceStep(CallState(finished=True), Collect.HANGUP, prompt=(Speech(text, language),))


# --- menus --------------------------------------------------------------------------------


def _consultation_menu(
    ctx: CallContext, state: CallState, before: tuple[Segment, ...] = ()
) -> VoiceStep:
    open_ones = ctx.catalog.with_status(Status.OPEN, ctx.now)
    if not open_ones:
        language = ctx.participant_language or _fallback_language(ctx.catalog)
        return VoiceStep(replace(state, finished=True), Collect.HANGUP, before,
                         (_menu_said(ctx, "voice_no_consultation", language),))
    if len(open_ones) == 1:
        return _enter(ctx, state, open_ones[0], before)
    prompt: list[Segment] = []
    for key, consultation in enumerate(open_ones, 1):
        language = consultation.language_or_default(ctx.participant_language)
        text = consultation.message("voice_consultation_option", language, key=key)
        prompt.append(Speech(text, language))
    language = ctx.participant_language or open_ones[0].default_language
    prompt.append(_menu_said(ctx, "voice_repeat", language))
    return VoiceStep(state, Collect.KEY, before, tuple(prompt), CONSULTATION_MENU)


def _on_consultation_menu(ctx: CallContext, state: CallState, digits: str) -> VoiceStep:
    open_ones = ctx.catalog.with_status(Status.OPEN, ctx.now)
    language = ctx.participant_language or (
        open_ones[0].default_language if open_ones else _fallback_language(ctx.catalog)
    )
    if (choice := _menu_choice(digits, len(open_ones))) is not None:
        return _enter(ctx, _reset(state), open_ones[choice - 1])
    if digits == REPEAT_KEY:
        return _consultation_menu(ctx, _reset(state))
    if digits == "":
        if state.silences < MAX_SILENT_REPEATS:
            state = replace(state, silences=state.silences + 1)
            return _consultation_menu(ctx, state, (_menu_said(ctx, "voice_no_input", language),))
        return _goodbye(replace(state, finished=True), language, before=(
            _menu_said(ctx, "voice_no_input", language),))
    tries = state.invalid_tries + 1
    hint = catalog_message(ctx.catalog, "keys_choice", language, max=len(open_ones))
    if tries < ctx.max_invalid_tries:
        invalid = catalog_message(ctx.catalog, "voice_invalid_key", language)
        before = (Speech(f"{invalid} {hint}", language),)
        return _consultation_menu(ctx, replace(state, invalid_tries=tries, silences=0), before)
    return _goodbye(replace(state, finished=True), language,
                    before=(_menu_said(ctx, "voice_invalid_key", language),))


def _enter(
    ctx: CallContext, state: CallState, consultation: Consultation,
    before: tuple[Segment, ...] = (),
) -> VoiceStep:
    state = replace(state, consultation_id=consultation.id)
    if len(consultation.languages) > 1:
        return _language_menu(ctx, state, consultation, before)
    return _begin(ctx, state, consultation, consultation.default_language, before)


def _language_menu(
    ctx: CallContext, state: CallState, consultation: Consultation,
    before: tuple[Segment, ...] = (),
) -> VoiceStep:
    """Each line in its own language: "For English, press 1. Kwa Kiswahili, bonyeza 2."."""
    prompt = tuple(
        Speech(consultation.message("voice_language_option", language, key=key), language)
        for key, language in enumerate(consultation.languages, 1)
    )
    return VoiceStep(state, Collect.KEY, before, prompt, LANGUAGE_MENU,
                     consultation_id=consultation.id)


def _on_language_menu(
    ctx: CallContext, state: CallState, consultation: Consultation, digits: str
) -> VoiceStep:
    languages = consultation.languages
    # Silence or confusion at the menu: the caller's remembered language, else the default.
    fallback = consultation.language_or_default(ctx.participant_language)
    if (choice := _menu_choice(digits, len(languages))) is not None:
        chosen = languages[choice - 1]
        step = _begin(ctx, _reset(state), consultation, chosen)
        return replace(step, language_chosen=chosen)
    if digits == REPEAT_KEY:
        return _language_menu(ctx, _reset(state), consultation)
    if digits == "":
        if state.silences < MAX_SILENT_REPEATS:
            state = replace(state, silences=state.silences + 1)
            return _language_menu(ctx, state, consultation,
                                  (said("voice_no_input", fallback, consultation),))
        return _begin(ctx, _reset(state), consultation, fallback)
    tries = state.invalid_tries + 1
    if tries < ctx.max_invalid_tries:
        hint = consultation.message("keys_choice", fallback, max=len(languages))
        before = (Speech(f"{consultation.message('voice_invalid_key', fallback)} {hint}",
                         fallback),)
        return _language_menu(ctx, replace(state, invalid_tries=tries, silences=0),
                              consultation, before)
    return _begin(ctx, _reset(state), consultation, fallback)


def _begin(
    ctx: CallContext, state: CallState, consultation: Consultation, language: str,
    before: tuple[Segment, ...] = (),
) -> VoiceStep:
    """Welcome (or welcome back, to a caller whose earlier call dropped) and ask."""
    position = ctx.resume.get(consultation.id, 0)
    if 0 < position < len(consultation.steps):
        greeting = consultation.message("voice_resume", language, number=position + 1,
                                        count=len(consultation.steps))
    else:
        position = 0
        greeting = consultation.message("voice_welcome", language,
                                        count=len(consultation.steps))
    state = replace(state, language=language, position=position)
    return _ask(ctx, state, consultation, (*before, Speech(greeting, language)), first=True)


# --- questions ----------------------------------------------------------------------------


def _ask(
    ctx: CallContext, state: CallState, consultation: Consultation,
    before: tuple[Segment, ...] = (), recorded: tuple[Recorded, ...] = (), first: bool = False,
) -> VoiceStep:
    language = _language(state, consultation)
    question = consultation.steps[state.position]
    prompt = question_prompt(consultation, question, language, first=first)
    collect = Collect.RECORD if question.type is QuestionType.TEXT else Collect.KEY
    return VoiceStep(state, collect, before, prompt, question.id,
                     consultation_id=consultation.id, recorded=recorded)


def _on_key(
    ctx: CallContext, state: CallState, consultation: Consultation, question: Question,
    digits: str,
) -> VoiceStep:
    language = _language(state, consultation)
    if digits == REPEAT_KEY:
        return _ask(ctx, _reset(state), consultation)
    if digits == "":
        return _silence(ctx, state, consultation, question)
    if digits == SKIP_KEY and question.skippable:
        skipped = _recorded(consultation, question, state, AnswerStatus.SKIPPED, None, digits)
        return _next(ctx, state, consultation, skipped, (said("voice_skipped", language,
                                                                consultation),))
    parsed = parse_keypad(consultation, question, digits, language)
    if isinstance(parsed, Answer):
        answered = _recorded(consultation, question, state, AnswerStatus.ANSWERED,
                             parsed.value, digits)
        label = answer_label(consultation, question, parsed.value, language)
        chose = Speech(consultation.message("voice_chose", language, label=label), language)
        return _next(ctx, state, consultation, answered, (chose,))
    invalid = consultation.message("voice_invalid_key", language)
    tries = state.invalid_tries + 1
    if tries < ctx.max_invalid_tries:
        before = (Speech(f"{invalid} {parsed.hint}", language),)
        return _ask(ctx, replace(state, invalid_tries=tries, silences=0), consultation, before)
    unparsed = _recorded(consultation, question, state, AnswerStatus.UNPARSED, None, digits)
    before = (Speech(invalid, language), said("voice_next_question", language, consultation))
    return _next(ctx, state, consultation, unparsed, before)


def _on_text(
    ctx: CallContext, state: CallState, consultation: Consultation, question: Question,
    given: CallInput,
) -> VoiceStep:
    language = _language(state, consultation)
    if isinstance(given, Keys):  # a key while the prompt was being read
        if given.digits == REPEAT_KEY:
            return _ask(ctx, _reset(state), consultation)
        if given.digits == SKIP_KEY and question.skippable:
            skipped = _recorded(consultation, question, state, AnswerStatus.SKIPPED, None,
                                given.digits)
            return _next(ctx, state, consultation, skipped,
                         (said("voice_skipped", language, consultation),))
        # Any other key: the caller is ready; go straight to the beep.
        instruction = said("voice_record", language, consultation)
        return VoiceStep(state, Collect.RECORD, prompt=(instruction,), target=question.id,
                         consultation_id=consultation.id, interruptible=False)
    if given.url and given.duration > 0:
        answered = _recorded(consultation, question, state, AnswerStatus.ANSWERED, given.url,
                             f"duration={given.duration}s")
        return _next(ctx, state, consultation, answered,
                     (said("voice_recorded", language, consultation),))
    nothing = _recorded(consultation, question, state, AnswerStatus.NO_ANSWER, None, None)
    return _next(ctx, state, consultation, nothing,
                 (said("voice_no_recording", language, consultation),))


def _silence(
    ctx: CallContext, state: CallState, consultation: Consultation, question: Question
) -> VoiceStep:
    language = _language(state, consultation)
    no_input = said("voice_no_input", language, consultation)
    if state.silences < MAX_SILENT_REPEATS:
        return _ask(ctx, replace(state, silences=state.silences + 1), consultation, (no_input,))
    unanswered = _recorded(consultation, question, state, AnswerStatus.NO_ANSWER, None, None)
    before = (no_input, said("voice_next_question", language, consultation))
    return _next(ctx, state, consultation, unanswered, before)


def _next(
    ctx: CallContext, state: CallState, consultation: Consultation, recorded: Recorded,
    before: tuple[Segment, ...],
) -> VoiceStep:
    moved = replace(_reset(state), position=state.position + 1)
    if moved.position < len(consultation.steps):
        return _ask(ctx, moved, consultation, before, (recorded,), first=True)
    language = _language(state, consultation)
    done = replace(moved, finished=True)
    farewell = (
        Speech(consultation.message("thanks", language), language),
        said("voice_goodbye", language, consultation),
    )
    return VoiceStep(done, Collect.HANGUP, before, farewell, consultation_id=consultation.id,
                     recorded=(recorded,))


# --- helpers ------------------------------------------------------------------------------


def _not_open(ctx: CallContext, state: CallState, consultation: Consultation) -> VoiceStep | None:
    status = consultation.status(ctx.now)
    if status is Status.OPEN:
        return None
    language = consultation.language_or_default(ctx.participant_language)
    if status is Status.UPCOMING:
        opens = consultation.opens.date().isoformat()
        text = consultation.message("voice_upcoming", language, opens=opens)
    else:
        text = consultation.message("closed", language)
    done = replace(state, consultation_id=consultation.id, finished=True)
    return VoiceStep(done, Collect.HANGUP, prompt=(Speech(text, language),),
                     consultation_id=consultation.id)


def _goodbye(
    state: CallState, language: str, consultation: Consultation | None = None,
    before: tuple[Segment, ...] = (),
) -> VoiceStep:
    text = (consultation.message("voice_goodbye", language) if consultation is not None
            else builtin_message("voice_goodbye", language))
    return VoiceStep(replace(state, finished=True), Collect.HANGUP, before,
                     (Speech(text, language),))


def _recorded(
    consultation: Consultation, question: Question, state: CallState, status: AnswerStatus,
    value: str | None, raw: str | None,
) -> Recorded:
    return Recorded(consultation.id, question.id, status, value, raw,
                    _language(state, consultation))


def _menu_said(ctx: CallContext, name: str, language: str) -> Speech:
    return Speech(catalog_message(ctx.catalog, name, language), language)


def _reset(state: CallState) -> CallState:
    return replace(state, silences=0, invalid_tries=0)


def _digits(given: CallInput) -> str:
    return given.digits if isinstance(given, Keys) else ""


def _menu_choice(digits: str, count: int) -> int | None:
    """The menu entry (1 to `count`) one key picks. Only keypad digits: "²" is a digit
    to str.isdigit() but no key, and int() refuses it."""
    if len(digits) == 1 and "1" <= digits <= "9" and int(digits) <= count:
        return int(digits)
    return None


def _language(state: CallState, consultation: Consultation) -> str:
    return consultation.language_or_default(state.language)


def _fallback_language(catalog: Catalog) -> str:
    return catalog.consultations[0].default_language if catalog.consultations else "en"
