"""The voice line's TwiML: gathers, speech and its settings, recorded prompts, and valid
documents at every step; read through signed webhooks as Twilio would."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from gateway.settings import Settings
from gateway.store import schema
from tests.channels.voice_calls import RECORDING, Call, Twiml
from tests.conftest import GatewayHarness, make_harness
from tests.stored import count

# --- TwiML shape ----------------------------------------------------------------------------


def test_language_menu_twiml(gateway: GatewayHarness) -> None:
    call = Call(gateway.client)
    menu = call.start()
    assert menu.verbs == ["Gather", "Redirect"]
    gather = menu.gather
    assert gather is not None
    assert gather.attrib == {
        "action": "/twilio/voice/step?n=1&q=_language",
        "method": "POST",
        "input": "dtmf",
        "numDigits": "1",
        "timeout": "8",
        "finishOnKey": "",
    }
    say_en, say_sw = gather.findall("Say")
    assert say_en.attrib == {"voice": "Polly.Amy", "language": "en-GB"}
    assert say_sw.attrib == {"voice": "Google.sw-KE-Standard-A", "language": "sw-KE"}
    prosody = say_en.find("prosody")
    assert prosody is not None and prosody.get("rate") == "85%"
    assert menu.prompt == ["For English, press 1.", "Kwa Kiswahili, bonyeza 2."]
    assert menu.redirect == gather.get("action")  # silence comes back to the same step
    assert menu.root.find("Redirect").get("method") == "POST"


def test_question_twiml_nests_the_prompt_with_a_pause_before_the_options(
    gateway: GatewayHarness,
) -> None:
    call = Call(gateway.client)
    call.start()
    question = call.press("1")
    assert question.verbs == ["Say", "Gather", "Redirect"]  # the welcome is not interruptible
    assert question.said[0].startswith("Welcome to Water services. There are 5 short questions.")
    gather = question.gather
    assert gather is not None
    assert [child.tag for child in gather] == ["Say", "Pause", "Say", "Say"]
    assert gather.find("Pause").get("length") == "1"
    assert question.prompt == [
        "What should the county fix first?",
        "For Water points, press 1. For Roads, press 2. For Clinics, press 3. "
        "For Schools, press 4.",
        "Press star to repeat.",
    ]
    assert gather.get("action") == "/twilio/voice/step?n=2&q=priority"


def test_settings_shape_the_speech(settings: Settings) -> None:
    gateway = make_harness(settings.with_overrides(
        gather_timeout=15, speech_rate="slow", tts_voices={"sw": "Polly.Custom"},
        tts_languages={"en": "en-KE"}))
    call = Call(gateway.client)
    menu = call.start()
    assert menu.gather.get("timeout") == "15"
    say_en, say_sw = menu.gather.findall("Say")
    assert say_en.attrib == {"voice": "Polly.Amy", "language": "en-KE"}
    assert say_sw.attrib == {"voice": "Polly.Custom", "language": "sw-KE"}
    assert say_en.find("prosody").get("rate") == "slow"
    plain = make_harness(settings.with_overrides(speech_rate=""))
    say = Call(plain.client).start().gather.find("Say")
    assert say.find("prosody") is None and say.text == "For English, press 1."


def test_recorded_prompt_replaces_text_to_speech(settings: Settings,
                                                 flows_with_audio: Path) -> None:
    gateway = make_harness(settings.with_overrides(flows_dir=flows_with_audio))
    call = Call(gateway.client)
    call.start()
    english = call.press("1")
    gather = english.gather
    assert [child.tag for child in gather] == ["Play", "Pause", "Say", "Say"]
    assert english.plays == ["http://localhost/audio/water-test/en/priority.mp3"]
    assert english.prompt[0].startswith("For Water points, press 1.")  # options by TTS
    swahili = Call(gateway.client, caller="+254722000111")
    swahili.start()
    sw = swahili.press("2")
    assert sw.prompt[0] == "Kaunti irekebishe nini kwanza?"
    assert sw.plays == ["http://localhost/audio/water-test/sw/priority.options.wav"]

    public = make_harness(settings.with_overrides(flows_dir=flows_with_audio,
                                                  public_base_url="https://ivr.example.org"))
    public.client.base_url = "https://ivr.example.org"
    call = Call(public.client)
    call.start()
    assert call.press("1").plays == ["https://ivr.example.org/audio/water-test/en/priority.mp3"]
    assert call.last.gather.get("action") == \
        "https://ivr.example.org/twilio/voice/step?n=2&q=priority"


def test_twiml_documents_are_valid_xml_for_every_step(gateway: GatewayHarness) -> None:
    call = Call(gateway.client)
    seen: list[Twiml] = [call.start()]
    for key in ("1", "*", "1", "1", "1", "3"):
        seen.append(call.press(key))
    seen.append(call.record(RECORDING, 3))
    seen.append(call.press("0"))
    assert seen[-1].hangs_up
    assert all(t.root.tag == "Response" for t in seen)
    assert count(gateway, schema.inbound) == len(seen)  # CallSid:0 .. CallSid:8
    with gateway.services.store.engine.connect() as conn:
        keys = conn.execute(select(schema.inbound.c.provider_id)).scalars().all()
    assert sorted(keys) == sorted(f"{call.sid}:{n}" for n in range(len(seen)))


def test_the_voice_of_a_language_settings_then_the_consultation_then_the_default(
    settings: Settings,
) -> None:
    from gateway.channels.voice_twiml import TwimlRenderer
    from gateway.consultation.catalogue import load_catalog
    from tests.conftest import UNSEEN_LANGUAGE_FLOWS

    catalog = load_catalog([UNSEEN_LANGUAGE_FLOWS])
    plain = TwimlRenderer(settings, "https://gateway.example", catalog)
    assert plain.voice("ar", "water-ar") == ("Polly.Zeina", "arb")
    assert plain.voice("en", "water-ar") == ("Polly.Amy", "en-GB")
    assert plain.voice("ar", None) == (None, None)  # no consultation: nothing known
    chosen = settings.with_overrides(tts_voices={"ar": "Google.ar-XA-Standard-A"},
                                     tts_languages={"ar": "ar-XA"})
    ours = TwimlRenderer(chosen, "https://gateway.example", catalog)
    assert ours.voice("ar", "water-ar") == ("Google.ar-XA-Standard-A", "ar-XA")
