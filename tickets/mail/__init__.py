"""Email: the channel customers use most.

* ``threading``: each ticket's conversation (reply address, Message-IDs),
  shared by mail in and mail out;
* ``inbound``: one service that turns a received message into a ticket,
  a reply, a reopen or a recorded refusal (the SMTP gateway and
  ``manage.py ingest_email`` both call it);
* ``notifications``: the outbox projection and sender of the emails that
  tell customers and staff what happened.
"""
