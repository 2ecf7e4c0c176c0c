"""Play a voice call against a running gateway, as Twilio would, in a terminal.

Prints what would be said (or which recording would play), takes key presses from a
list or the keyboard, and follows Gather / Redirect / Record actions with signed
requests until the gateway hangs up; then sends the call's status callback.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from urllib.parse import urlsplit

import click

from gateway.commands.signed_webhooks import signed_post
from gateway.settings import Settings

RECORDING_SECONDS = 7  # the length of a simulated spoken comment
SPOKEN = ("Say", "Play", "Pause")


class KeysUsedUp(Exception):
    """--keys ran out (or the keyboard closed) before the call ended: the caller hangs up."""


class CallSimulator:
    def __init__(
        self,
        settings: Settings,
        base_url: str,
        caller: str,
        called: str,
        keys: list[str] | None,
        *,
        echo: Callable[[str], None] = click.echo,
        read: Callable[[str], str] = input,
    ) -> None:
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.caller = caller
        self.called = called
        self.keys = keys  # None: read from the keyboard
        self.echo = echo
        self.read = read
        self.call_sid = "CA" + secrets.token_hex(16)
        self.account_sid = settings.twilio_account_sid or "AC" + "0" * 32
        self.pushed_back: list[str] = []

    def run(self) -> str:
        """Play the call to its end; returns how it ended (a final CallStatus)."""
        self.echo(f"calling {self.called} from {self.caller} ({self.call_sid})")
        twiml: str | None = self.post("/twilio/voice", {}, status="ringing")
        outcome = "completed"
        try:
            while twiml is not None:
                twiml, outcome = self.play(twiml)
        except KeysUsedUp:
            self.echo("(no more keys: the caller hangs up)")
            outcome = "completed"
        self.post("/twilio/status", {"CallDuration": "60"}, status=outcome)
        self.echo(f"(call {outcome})")
        return outcome

    def play(self, twiml: str) -> tuple[str | None, str]:
        """Run one TwiML document; the next document (None at the end) and the outcome."""
        verbs = list(ET.fromstring(twiml))
        for index, verb in enumerate(verbs):
            if verb.tag in SPOKEN:
                self.speak(verb)
            elif verb.tag == "Gather":
                for child in verb:
                    self.speak(child)
                before_record = index + 1 < len(verbs) and verbs[index + 1].tag == "Record"
                key = self.next_key(before_record=before_record)
                if key == "":
                    continue  # no key in time: on to the next verb
                return self.post(verb.get("action", ""), {"Digits": key}), "completed"
            elif verb.tag == "Record":
                self.echo("  (beep: recording; # finishes, silence records nothing)")
                key = self.next_key(recording=True)
                if key == "":
                    self.echo("  (nothing recorded)")
                    continue  # an empty recording: Twilio skips the action
                recording_sid = "RE" + secrets.token_hex(16)
                params = {  # the URL names the recording RecordingSid names, as Twilio's do
                    "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/"
                    f"{self.account_sid}/Recordings/{recording_sid}",
                    "RecordingDuration": str(RECORDING_SECONDS),
                    "RecordingSid": recording_sid,
                    "Digits": key if key == "#" else "",
                }
                self.echo(f"  (recorded {RECORDING_SECONDS} s: {params['RecordingUrl']})")
                return self.post(verb.get("action", ""), params), "completed"
            elif verb.tag == "Redirect":
                return self.post(verb.text or "", {}), "completed"
            elif verb.tag == "Hangup":
                self.echo("(the gateway hangs up)")
                return None, "completed"
            elif verb.tag == "Reject":
                reason = verb.get("reason", "rejected")
                self.echo(f"(call rejected: {reason}; it cost the caller nothing. A call-back "
                          "follows if the consultation offers one.)")
                return None, "busy" if reason == "busy" else "no-answer"
            else:
                self.echo(f"  (unsupported verb <{verb.tag}>: ignored)")
        return None, "completed"  # the end of a document ends the call

    def speak(self, verb: ET.Element) -> None:
        if verb.tag == "Say":
            text = " ".join("".join(verb.itertext()).split())
            self.echo(f"< [{verb.get('language') or '-'}] {text}")
        elif verb.tag == "Play":
            self.echo(f"< [recording] {(verb.text or '').strip()}")
        elif verb.tag == "Pause":
            self.echo(f"  (pause {verb.get('length', '1')} s)")

    def next_key(self, *, before_record: bool = False, recording: bool = False) -> str:
        """The next key ("" for silence); raises KeysUsedUp when there are no more."""
        if self.pushed_back:
            key = self.pushed_back.pop()
        elif self.keys is not None:
            if not self.keys:
                raise KeysUsedUp
            key = self.keys.pop(0).strip()
        else:
            hint = "# ends the recording" if recording else "a key"
            try:
                key = self.read(f"key ({hint}; Enter = silence)> ").strip()
            except EOFError as exc:
                raise KeysUsedUp from exc
        if before_record and key == "#":
            # "#" at a comment's prompt means: let the beep come, speak, then press #.
            self.pushed_back.append(key)
            key = ""
        if not recording and (self.keys is not None or not key):  # typed keys show already
            self.echo(f"> {key}" if key else "> (silence)")
        return key

    def post(self, url: str, extra: dict[str, str], status: str = "in-progress") -> str:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        params = {
            "CallSid": self.call_sid,
            "AccountSid": self.account_sid,
            "From": self.caller,
            "To": self.called,
            "Caller": self.caller,
            "Called": self.called,
            "Direction": "inbound",
            "CallStatus": status,
            "ApiVersion": "2010-04-01",
            **extra,
        }
        return signed_post(self.settings, self.base_url, path, params)
