from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.clock import VN_TZ
from streams.deadlines import DeadlineIndex
from streams.tracker import LOST, Expectation

T0 = datetime(2024, 3, 4, 8, tzinfo=VN_TZ)


def expectation(key: str, due_s: float) -> Expectation:
    return Expectation(key, LOST, T0 + timedelta(seconds=due_s), T0, "link:a->b", "test")


@settings(max_examples=200, deadline=None)
@given(
    dues=st.lists(st.floats(min_value=0, max_value=10_000, allow_nan=False), max_size=80),
    ticks=st.lists(st.floats(min_value=0, max_value=12_000, allow_nan=False), min_size=1, max_size=8),
    bucket=st.sampled_from([1.0, 7.0, 60.0, 3600.0]),
)
def test_each_entry_comes_out_once_at_the_first_tick_past_it_in_due_order(
    dues: list[float], ticks: list[float], bucket: float
) -> None:
    """Against the plain definition: an entry due at d comes out at the first tick t > d."""
    index = DeadlineIndex(bucket_s=bucket)
    open_ = {f"k{i}": expectation(f"k{i}", d) for i, d in enumerate(dues)}
    for x in open_.values():
        index.push("d", x)
    seen: list[str] = []
    previous = float("-inf")
    for tick in sorted(ticks):
        now = T0 + timedelta(seconds=tick)
        t = (now - T0).total_seconds()  # at the clock's microsecond resolution
        out = [x.key for _, x in index.due(now, lambda _d, k: open_.get(k))]
        want = sorted(
            (k for k, x in open_.items() if previous <= (x.due_at - T0).total_seconds() < t and k not in seen),
            key=lambda k: (open_[k].due_at, k),
        )
        assert out == want
        seen += out
        previous = t
    assert len(index) == len(dues) - len(seen)


def test_an_entry_met_before_it_surfaces_is_skipped() -> None:
    index = DeadlineIndex()
    kept, met = expectation("kept", 10), expectation("met", 20)
    index.push("d", kept)
    index.push("d", met)
    out = list(index.due(T0 + timedelta(seconds=100), lambda _d, k: kept if k == "kept" else None))
    assert [x.key for _, x in out] == ["kept"]
    assert len(index) == 0
