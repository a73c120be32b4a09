"""The follow-ups of this module's calls to charge points (chargers.follow_ups), imported by
the AppConfig: each runs once its call has ended, in the transaction that claims it."""

from chargers.follow_ups import follow_up
from chargingprofiles import loadmanagement, services

follow_up(services.SET_FOLLOW_UP)(services.set_ended)
follow_up(services.GET_FOLLOW_UP)(services.get_ended)
follow_up(services.CLEAR_FOLLOW_UP)(services.clear_ended)
follow_up(loadmanagement.PLANNED_FOLLOW_UP)(loadmanagement.planned_ended)
