"""Signals of the sessions module, for the apps above it (sessions never imports them).

`session_completed` is sent inside the transaction that completes a session, with
`session=` the completed Session (its periods stored, its total_cost final): a receiver that
writes in that transaction (the cdrs app builds the CDR) commits or rolls back with it. A
receiver that raises aborts the completion.
"""

from django.dispatch import Signal

session_completed = Signal()
