"""Billing: the App and its topics here, the agents in ``billing/agents.py``, imported at
the bottom of this module (after ``app`` exists, so the agents module can import it) --
the usual way to split a Faust app without ``autodiscover``. Run it with
``faust -A billing.app worker``.

Constructs: agents registered in another module, imported for their side effect; a module
that imports the App module back.
"""
import faust

app = faust.App('billing', broker='kafka://localhost:9092', topic_partitions=1)

invoices_topic = app.topic('invoices')
reminders_topic = app.topic('payment-reminders', value_type=str)

from billing import agents  # noqa: E402,F401  (registers the agents)
