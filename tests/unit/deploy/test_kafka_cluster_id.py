"""The KRaft cluster id handed to `kafka-storage format`."""

from __future__ import annotations

import base64
from collections.abc import Iterator

from deploy.kafka_cluster import new_cluster_id


def test_cluster_id_starting_with_a_dash_is_drawn_again() -> None:
    # Stamp: a CI run failed to format node 1 because the id drawn began with "-" and the
    # storage tool's parser took it for an option ("--cluster-id: expected one argument").
    dash_first = b"\xfb" + bytes(15)  # URL-safe base64 of 0xfb... begins with "-"
    plain = bytes(range(16))
    draws: Iterator[bytes] = iter([dash_first, plain])
    assert base64.urlsafe_b64encode(dash_first).decode().startswith("-")
    cluster_id = new_cluster_id(lambda: next(draws))
    assert cluster_id == base64.urlsafe_b64encode(plain).decode().rstrip("=")
    assert len(cluster_id) == 22


def test_cluster_ids_never_start_with_a_dash() -> None:
    ids = {new_cluster_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert not any(i.startswith("-") for i in ids)
