"""A batch is split into lanes: every delivery in exactly one, at most so many lanes to one endpoint."""

from __future__ import annotations

from bulkbill.services.events.deliveries import Claimed
from bulkbill.services.events.sender import lanes


def claimed(endpoint: str, n: int) -> Claimed:
    return Claimed(
        "acct", f"whd_{endpoint}_{n}", f"evt_{n}", endpoint, f"https://{endpoint}.test/", "whsec_x", "{}", 0, None
    )


def test_each_endpoint_gets_at_most_its_lanes_and_every_delivery_one_lane() -> None:
    batch = [claimed("a", i) for i in range(10)] + [claimed("b", i) for i in range(2)]
    split = list(lanes(batch, 4))
    by_endpoint = {e: [lane for lane in split if lane[0].endpoint_id == e] for e in ("a", "b")}
    assert len(by_endpoint["a"]) == 4 and len(by_endpoint["b"]) == 2
    assert all(len({c.endpoint_id for c in lane}) == 1 for lane in split)
    assert sorted(c.delivery_id for lane in split for c in lane) == sorted(c.delivery_id for c in batch)


def test_one_lane_keeps_the_batch_order() -> None:
    batch = [claimed("a", i) for i in range(5)]
    assert list(lanes(batch, 1)) == [batch]
