"""The queue-head rule on its own, and statements taking a list: no database needed."""

import pytest

from push.claims import CHAIN_DEPTH, Claim, Claimed, QueueHeads, holds_queue
from push.models import DeliveryStatus
from push.statements import ForIds, Listed


@pytest.mark.parametrize(
    ("status", "due", "holds"),
    [
        (DeliveryStatus.PENDING, True, False),  # the queue's head, due: it goes
        (DeliveryStatus.PENDING, False, True),  # a retry waiting for its backoff
        (DeliveryStatus.IN_FLIGHT, True, True),  # being sent
        (DeliveryStatus.IN_FLIGHT, False, True),
        (DeliveryStatus.DELIVERED, False, False),  # finished: holds nothing
        (DeliveryStatus.FAILED, False, False),
        (DeliveryStatus.SUPERSEDED, False, False),
    ],
)
def test_what_holds_a_queue(status, due, holds):
    assert holds_queue(status, due) is holds


def test_a_queue_is_taken_up_to_what_holds_it():
    heads = QueueHeads(limit=64)

    heads.take(
        [
            (1, "a", "PENDING", True),
            (2, "a", "PENDING", True),
            (3, "b", "IN_FLIGHT", False),
            (4, "b", "PENDING", True),  # behind one in flight
            (5, "c", "PENDING", False),
            (6, "c", "PENDING", True),  # behind a retry's backoff
            (7, "a", "PENDING", False),
            (8, "a", "PENDING", True),  # behind 7, which is not due
            (9, "d", "PENDING", 1),  # SQLite's booleans are integers
        ]
    )

    assert (heads.chosen, heads.full) == ([1, 2, 9], False)


def test_a_chain_stops_at_chain_depth_and_a_claim_at_its_limit():
    deep = QueueHeads(limit=64)
    deep.take([(pk, "a", "PENDING", True) for pk in range(1, CHAIN_DEPTH + 3)])
    limited = QueueHeads(limit=3)
    limited.take([(pk, f"q{pk}", "PENDING", True) for pk in range(1, 6)])

    assert deep.chosen == list(range(1, CHAIN_DEPTH + 1))
    assert (limited.chosen, limited.full) == ([1, 2, 3], True)


def claimed(pk: int, queue_key: str, module: str = "locations") -> Claimed:
    return Claimed(pk, queue_key, 0, module, "PUT", [], None, {})


def test_chains_keep_the_order_of_their_queue_and_say_what_may_follow():
    claim = Claim(
        [claimed(1, "a"), claimed(2, "b", "tariffs"), claimed(3, "c"), claimed(4, "a")],
        floor=0,
        full=False,
    )
    deep = Claim([claimed(pk, "a") for pk in range(CHAIN_DEPTH)], floor=0, full=False)
    full = Claim([claimed(1, "a")], floor=0, full=True)

    chains = claim.chains({"locations"})

    assert [([d.pk for d in c.deliveries], c.continues) for c in chains] == [
        ([1, 4], False),
        ([3], False),
    ]
    assert [c.continues for c in deep.chains({"locations"})] == [True]
    assert [c.continues for c in full.chains({"locations"})] == [True]


def test_a_listed_statement_is_written_once_per_count():
    statement = Listed("SELECT 1 WHERE id IN (", "%s", ")")

    first = statement(3)

    assert first == "SELECT 1 WHERE id IN (%s, %s, %s)"
    assert statement(3) is first
    assert statement(1) == "SELECT 1 WHERE id IN (%s)"


def test_ids_go_as_one_array_where_the_database_has_arrays():
    """PostgreSQL: one parameter whatever the count; SQLite: a placeholder per id."""
    before, after = "UPDATE t SET a = %s WHERE id", " RETURNING id"

    arrays = ForIds(before, after, array=True)([7, 8, 9], "x")
    listed = ForIds(before, after, array=False)([7, 8, 9], "x")

    assert arrays == ("UPDATE t SET a = %s WHERE id = ANY(%s) RETURNING id", ["x", [7, 8, 9]])
    assert listed == (
        "UPDATE t SET a = %s WHERE id IN (%s, %s, %s) RETURNING id",
        ["x", 7, 8, 9],
    )
