"""Failed pushes in the partner's "last error" (credentials.problems), as a failed handshake
or pull appears there: the request and what went wrong, with the time it was recorded.

Failures before anything is sent count the same: a delivery failed for good because the
partner has no endpoint for its module, its URL may not be called or its request cannot be
built, and a partner we hold no usable token for.

Once per batch of recorded outcomes, not per attempt: a partner that fails a thousand
pushes gets one write, and one move of the credentials generation that it costs.
"""

from collections.abc import Sequence

from credentials.problems import partner_error_clear, partner_error_record
from push.models import DeliveryStatus
from push.sending import Result

OPERATION = "push"


def report(partner_id: int, results: list[Result], unsent: Sequence[str] = ()) -> None:
    """Record the last failure among `unsent` (failed before sending: `request: error`
    lines) then `results` (in the order they were sent); when there was none and something
    was sent, clear an error an earlier push recorded (not a pull's or handshake's)."""
    failed = [r for r in results if r.status != DeliveryStatus.DELIVERED]
    failures = [*unsent, *(f"{r.request}: {r.error}" for r in failed)]
    if failures:
        partner_error_record(partner_id, OPERATION, failures[-1])
    elif results:
        partner_error_clear(partner_id, OPERATION)


def report_no_client(partner_id: int, problem: str) -> None:
    """Nothing of the partner's can be sent: no usable token (say, the key changed)."""
    partner_error_record(partner_id, OPERATION, problem)
