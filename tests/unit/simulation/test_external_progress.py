"""An integrator's agency is proven caught up by the broker alone: some group committed the end
of every partition of its work topic (a partition holding only its primer needs no commit)."""

from __future__ import annotations

from simulation.external import unread


def test_the_best_group_counts_and_a_partition_it_never_committed_counts_from_the_start() -> None:
    ends = {0: 5, 1: 3}
    assert unread(ends, {"lt.standin": {0: 5, 1: 3}}, primed=False) == 0
    assert unread(ends, {"lt.standin": {0: 4, 1: 3}}, primed=False) == 1
    assert unread(ends, {"lt.standin": {0: 5}}, primed=False) == 3
    assert unread(ends, {"lt.standin": {0: 5}}, primed=True) == 2  # offset 0 is the primer
    assert unread(ends, {"old": {0: 1}, "lt.standin": {0: 5, 1: 2}}, primed=False) == 1


def test_no_group_at_all_proves_nothing_unless_there_is_nothing_but_primers() -> None:
    assert unread({0: 5, 1: 0}, {}, primed=False) is None
    assert unread({0: 5}, {"monitor": {}}, primed=True) is None
    assert unread({0: 1, 1: 1}, {}, primed=True) == 0
    assert unread({0: 0, 1: 0}, {}, primed=False) == 0
