"""Failed pushes in the partner's "last error" (credentials.problems), as a failed handshake
or pull appears there: the request and what went wrong, with the time it was recorded.

Once per batch of recorded outcomes, not per attempt: a partner that fails a thousand
pushes gets one write, and one move of the credentials generation that it costs.
"""

from credentials.problems import partner_error_clear, partner_error_record
from push.models import DeliveryStatus
from push.sending import Result

OPERATION = "push"


def report(partner_id: int, results: list[Result]) -> None:
    """Record the last failed attempt among `results` (in the order they were sent); when all
    of them succeeded, clear an error an earlier push recorded (not a pull's or handshake's)."""
    if not results:
        return
    failed = [result for result in results if result.status != DeliveryStatus.DELIVERED]
    if failed:
        last = failed[-1]
        partner_error_record(partner_id, OPERATION, f"{last.request}: {last.error}")
    else:
        partner_error_clear(partner_id, OPERATION)
