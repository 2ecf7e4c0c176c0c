"""POST /twilio/voice and its action URLs: Twilio <-> the voice flow, as TwiML.

    POST /twilio/voice           incoming call (or our call-back, ?c=<consultation>&cb=<id>)
    POST /twilio/voice/step      ?n=<step>&q=<question or menu>[&r=1]: a Gather's key, a
                                 silence (the Redirect after a Gather), or a Record's result
    GET  /audio/<c>/<lang>/<f>   recorded prompts, for <Play> (public: Twilio fetches them
                                 unsigned; only .mp3/.wav under FLOWS_DIR/audio)

No consultation rules here: gateway.consultation.voice_conversation decides,
gateway.application.call_steps commits, gateway.channels.voice_twiml renders the TwiML.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, Response, abort, request, send_from_directory
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.datastructures import MultiDict

from gateway.application.call_steps import CallStart, handle_call_start, handle_call_step
from gateway.channels import field_shapes
from gateway.channels.field_shapes import CallParties
from gateway.channels.phone import to_e164
from gateway.channels.request_helpers import query_number, services, twiml
from gateway.channels.signatures import require_twilio_signature
from gateway.channels.voice_twiml import AUDIO_PATH, STEP_PATH, TwimlRenderer
from gateway.consultation.audio import MIMETYPES, audio_dir
from gateway.consultation.voice_call import CallInput, Keys, RecordingResult
from gateway.consultation.voice_conversation import hidden_number
from gateway.settings import Settings

blueprint = Blueprint("voice", __name__)
audio_blueprint = Blueprint("voice_audio", __name__)  # not signature-checked

MAX_RECORDING_DURATION = 24 * 3600  # seconds; Twilio records at most 4 hours

_CONSULTATION_ID = re.compile(r"[a-z0-9-]{1,64}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_AUDIO_FILE = re.compile(r"[a-z0-9_]{1,64}(\.options)?\.(mp3|wav)")


@blueprint.before_request
def _check_signature() -> None:
    require_twilio_signature(services().settings)


@blueprint.post("/twilio/voice")
def incoming_call() -> Response:
    call_sid = field_shapes.call_sid(request.form)
    parties = field_shapes.call_parties(request.form)
    settings = services().settings
    renderer = _renderer(settings)
    caller = _caller(settings, parties)
    if caller is None:
        return twiml(renderer.render(hidden_number(_fallback_language())))
    outbound = parties.outbound
    if outbound and _answering_machine(request.form):  # OUTREACH_AMD: not a person
        hang_up = VoiceResponse()
        hang_up.hangup()
        return twiml(hang_up)
    if outbound:  # our call-back: the consultation is in the URL we gave Twilio
        consultation_id = request.args.get("c") or None
        callback_id = query_number("cb")
    else:
        called = to_e164(parties.to, settings.default_region)
        consultation = services().catalog.current().by_voice_number(called) if called else None
        consultation_id = consultation.id if consultation is not None else None
        callback_id = None
    start = CallStart(call_sid, caller, consultation_id, inbound=not outbound,
                      callback_id=callback_id)
    return twiml(handle_call_start(services(), start, renderer.render))


def _answering_machine(form: MultiDict[str, str]) -> bool:
    """Twilio's answering-machine detection said a machine or a fax picked up."""
    answered_by = field_shapes.state(form, "AnsweredBy")
    return answered_by.startswith("machine") or answered_by == "fax"


@blueprint.post(STEP_PATH)
def call_step() -> Response:
    call_sid = field_shapes.call_sid(request.form)
    token = query_number("n")
    if token is None:
        abort(400, description="missing or invalid step number n")
    parties = field_shapes.call_parties(request.form)
    given = _input()
    settings = services().settings
    renderer = _renderer(settings)
    caller = _caller(settings, parties)
    if caller is None:
        return twiml(renderer.render(hidden_number(_fallback_language())))
    target = request.args.get("q", "")
    reply = handle_call_step(services(), call_sid, caller, token, target, given,
                             renderer.render)
    return twiml(reply)


@audio_blueprint.get(f"{AUDIO_PATH}/<consultation_id>/<language>/<filename>")
def prompt_audio(consultation_id: str, language: str, filename: str) -> Response:
    """A recorded prompt. Names are checked against strict patterns before any file access."""
    if not (_CONSULTATION_ID.fullmatch(consultation_id) and _LANGUAGE.fullmatch(language)
            and _AUDIO_FILE.fullmatch(filename)):
        abort(404)
    folder = audio_dir(services().settings.flows_dir).resolve() / consultation_id / language
    mimetype = MIMETYPES[Path(filename).suffix]
    return send_from_directory(folder, filename, mimetype=mimetype, max_age=3600)


# --- request -> flow ------------------------------------------------------------------------


def _caller(settings: Settings, parties: CallParties) -> str | None:
    """The participant: who called, or whom we called back."""
    return to_e164(parties.to if parties.outbound else parties.from_, settings.default_region)


def _input() -> CallInput:
    """The keys pressed, or the recording made; a malformed field is a 400."""
    digits = field_shapes.keys(request.form)  # a Record's action sends its finishing key
    if request.args.get("r") == "1":  # the Record's action, or the Redirect after it
        made = field_shapes.recording(request.form, MAX_RECORDING_DURATION)
        return RecordingResult(made.url, made.duration)
    return Keys(digits)


def _fallback_language() -> str:
    consultations = services().catalog.current().consultations
    return consultations[0].default_language if consultations else "en"


def _renderer(settings: Settings) -> TwimlRenderer:
    media_base = settings.public_base_url or request.url_root
    return TwimlRenderer(settings, media_base, services().catalog.current())
