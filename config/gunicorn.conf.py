"""gunicorn settings for the gateway's web process (Procfile `web`)."""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
# Twilio waits at most 15 s for a webhook; a request still running after that is lost.
timeout = 15
graceful_timeout = 10
keepalive = 5
max_requests = 10_000  # recycle workers now and then; jitter so they don't all restart at once
max_requests_jitter = 1_000
accesslog = "-"
# No query strings or bodies in the access log: they can carry phone numbers.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
# No control socket: gunicorn's default is one per user (~/.gunicorn/gunicorn.ctl), which a
# gateway and a centre on one host would take from each other.
control_socket_disable = True
