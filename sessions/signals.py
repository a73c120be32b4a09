"""Signals of the sessions module, for the apps above it (sessions never imports them).

`session_completed` is sent inside the transaction that completes a session, with
`session=` the completed Session (its periods stored, its total_cost final): a receiver that
writes in that transaction (the cdrs app builds the CDR) commits or rolls back with it. A
receiver that raises aborts the completion.

`session_status_changed` is sent inside the transaction of every step that gives a session a
status (created, activated, completed, invalidated), with `session=` the session as saved:
for receivers that only note that something is to be done once it commits (load management
plans its site again); it is not sent for meter values.
"""

from django.dispatch import Signal

session_completed = Signal()
session_status_changed = Signal()
