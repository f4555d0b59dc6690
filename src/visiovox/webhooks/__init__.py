"""Job webhooks: the delivery side of the outbox that job transitions fill.

``jobs/webhook_outbox.py`` enqueues a delivery in the same Lua step as the
event it tells of; here a gateway process that holds the outbox lease
(``deliverer.py``) sends each one, signed (``signing.py``), through a client
that refuses private addresses and pins the address it resolved
(``client.py``), and retries it (``retry.py``) until it is accepted or given up.
"""
