"""The outbox: pushes to partners written with the change, delivered by Celery workers.

A module service calls push_change() inside its transaction; the rows commit with the
change or not at all. Workers deliver them in order per object, retry what can succeed
later, and a beat task picks up whatever a lost message or a killed worker left behind.
"""
