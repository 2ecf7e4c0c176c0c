"""Twilio webhooks: verify, translate to engine turns, answer with TwiML. No consultation rules."""
