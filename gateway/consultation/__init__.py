"""Consultation rules: pure Python, no Flask, no Twilio, no SQL."""
