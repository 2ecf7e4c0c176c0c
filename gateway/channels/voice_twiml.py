"""The voice line's answers: a step of the voice conversation as TwiML, with the SDK's
VoiceResponse: text-to-speech (or a recorded prompt, served under AUDIO_PATH), key
presses gathered and recordings made with action URLs back to STEP_PATH."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from twilio.twiml.voice_response import Gather, VoiceResponse

from gateway.consultation.audio import audio_dir, find_prompt
from gateway.consultation.model import Catalog
from gateway.consultation.voice_call import CallState, Collect, VoiceStep
from gateway.consultation.voice_prompts import Pause, Segment, Speech
from gateway.settings import Settings

STEP_PATH = "/twilio/voice/step"
AUDIO_PATH = "/audio"
# Text-to-speech per consultation language, unless TTS_VOICES / TTS_LANGUAGES or the
# consultation's `language_settings` (a language CivicLine does not ship) say otherwise.
# Polly and Google voices take SSML <prosody>, which slows the speech down.
DEFAULT_TTS_VOICES: dict[str, str] = {
    "en": "Polly.Amy",
    "sw": "Google.sw-KE-Standard-A",
    "fr": "Polly.Lea",
}
DEFAULT_TTS_LANGUAGES: dict[str, str] = {"en": "en-GB", "sw": "sw-KE", "fr": "fr-FR"}
RECORD_PROMPT_TIMEOUT = 1  # seconds after a comment's prompt before the beep


class TwimlRenderer:
    """Turns a VoiceStep into TwiML with the SDK's VoiceResponse."""

    def __init__(self, settings: Settings, media_base: str, catalog: Catalog | None = None) -> None:
        self.settings = settings
        self.media_base = media_base.rstrip("/")
        self.audio_base = audio_dir(settings.flows_dir)
        self.catalog = catalog or Catalog()

    def voice(self, language: str, consultation_id: str | None) -> tuple[str | None, str | None]:
        """(voice, language tag) for speech in `language`: the settings, else the
        consultation's own for that language, else the built-in default."""
        consultation = self.catalog.get(consultation_id) if consultation_id else None
        own = consultation.language_settings.get(language) if consultation else None
        voice = self.settings.tts_voices.get(language) or (own and own.voice)
        tag = self.settings.tts_languages.get(language) or (own and own.tts_language)
        return (voice or DEFAULT_TTS_VOICES.get(language),
                tag or DEFAULT_TTS_LANGUAGES.get(language))

    def render(self, step: VoiceStep) -> str:
        response = VoiceResponse()
        for segment in step.before:
            self._speak(response, segment, step.consultation_id)
        if step.collect is Collect.REJECT:
            response.reject(reason="busy")
        elif step.collect is Collect.HANGUP or step.target is None:
            for segment in step.prompt:
                self._speak(response, segment, step.consultation_id)
            response.hangup()
        elif step.collect is Collect.KEY:
            url = self.action_url(step.state, step.target)
            gather = response.gather(input="dtmf", num_digits=1,
                                     timeout=self.settings.gather_timeout, action=url,
                                     method="POST", finish_on_key="")
            for segment in step.prompt:
                self._speak(gather, segment, step.consultation_id)
            response.redirect(url, method="POST")  # no key in time: a silence
        else:
            self._record(response, step, step.target)
        return str(response)

    def _record(self, response: VoiceResponse, step: VoiceStep, target: str) -> None:
        if step.interruptible:  # a key during the prompt: 0 skips, * repeats
            gather = response.gather(input="dtmf", num_digits=1,
                                     timeout=RECORD_PROMPT_TIMEOUT,
                                     action=self.action_url(step.state, target),
                                     method="POST", finish_on_key="")
            for segment in step.prompt:
                self._speak(gather, segment, step.consultation_id)
        else:
            for segment in step.prompt:
                self._speak(response, segment, step.consultation_id)
        url = self.action_url(step.state, target, recording=True)
        response.record(action=url, method="POST", finish_on_key="#",
                        max_length=self.settings.max_recording_seconds, play_beep=True,
                        timeout=self.settings.gather_timeout, trim="trim-silence")
        response.redirect(url, method="POST")  # nothing recorded: Twilio skips the action

    def action_url(self, state: CallState, target: str, *, recording: bool = False) -> str:
        query = {"n": str(state.step), "q": target}
        if recording:
            query["r"] = "1"
        base = self.settings.public_base_url.rstrip("/")
        return f"{base}{STEP_PATH}?{urlencode(query)}"

    def _speak(
        self, parent: VoiceResponse | Gather, segment: Segment, consultation_id: str | None
    ) -> None:
        if isinstance(segment, Pause):
            parent.pause(length=segment.seconds)
            return
        audio = self._audio_url(segment, consultation_id)
        if audio is not None:
            parent.play(audio)
            return
        voice, language = self.voice(segment.language, consultation_id)
        if self.settings.speech_rate:  # SSML: slower speech for callers who need time
            say = parent.say(voice=voice, language=language)
            say.prosody(segment.text, rate=self.settings.speech_rate)
        else:
            parent.say(segment.text, voice=voice, language=language)

    def _audio_url(self, speech: Speech, consultation_id: str | None) -> str | None:
        if speech.audio is None or consultation_id is None:
            return None
        filename = find_prompt(self.audio_base, consultation_id, speech.language, speech.audio)
        if filename is None:
            return None
        path = "/".join(quote(part) for part in (consultation_id, speech.language, filename))
        return f"{self.media_base}{AUDIO_PATH}/{path}"
