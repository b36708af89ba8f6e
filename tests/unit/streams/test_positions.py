from streams.positions import LogWatch


def test_a_growing_log_is_not_lost() -> None:
    watch: LogWatch[int] = LogWatch()
    assert watch.lost({0: 10, 1: 4}, {0: 9, 1: None}) == set()
    # faust's read offset can reach the end offset (measured: both 3721 on a live partition).
    assert watch.lost({0: 10, 1: 4}, {0: 10, 1: 4}) == set()
    assert watch.lost({0: 25, 1: 4}, {0: 24, 1: 3}) == set()


def test_an_end_that_moved_backwards_is_a_lost_log() -> None:
    watch: LogWatch[int] = LogWatch()
    watch.lost({0: 25_000, 1: 30_000}, {0: 24_000, 1: 29_999})
    # The broker came back empty; partition 1 has already been written past nothing it held.
    assert watch.lost({0: 3, 1: 30_001}, {0: 24_000, 1: 29_999}) == {0}


def test_an_end_below_what_was_read_is_a_lost_log_even_unseen_before() -> None:
    # The worker's first check after a restart: nothing remembered, but it read past the end.
    watch: LogWatch[int] = LogWatch()
    assert watch.lost({0: 5, 1: 100}, {0: 4_000, 1: 99}) == {0}


def test_an_empty_partition_never_read_is_not_lost() -> None:
    watch: LogWatch[int] = LogWatch()
    assert watch.lost({0: 0}, {0: None}) == set()
    assert watch.lost({0: 0}, {0: None}) == set()


def test_an_old_ack_committed_after_the_reread_still_shows_the_log_lost() -> None:
    """After the re-read from the start, nothing read yet, but faust took back an old offset
    (acknowledged before the crash, committed after it) at a rebalance: below it, faust drops
    every event, so the log must count as lost again."""
    from streams.app import _highest

    watch: LogWatch[int] = LogWatch()
    watch.seen[0] = 0  # just re-read from the start
    read = {0: _highest(None, 1_412, *[1_400, 1_411])}
    assert read == {0: 1_412}
    assert watch.lost({0: 380}, read) == {0}
    assert _highest(None, None) is None


def test_a_skip_on_a_re_read_partition_is_read_again_from_the_first_offset_skipped() -> None:
    """Regression: after a broker crash faust jumped past the first events written to the new log
    (a rebalance took back an offset committed from old-log acknowledgements), and a
    `handoff.sent` never reached the monitor, which then missed its lost alert."""
    from streams.positions import Coverage

    cover: Coverage[int] = Coverage()
    cover.watch(0, 0, now=100.0)
    assert cover.admit(0, [0, 1, 2], now=101.0) == (3, None)
    # The rebalance resumed at 302: offsets 3..301 never came.
    assert cover.admit(0, [302, 303], now=102.0) == (0, 3)
    # Read again from 3: what was handled comes again (kept, stored once), then the rest.
    assert cover.admit(0, [1, 2, 3, 4], now=103.0) == (4, None)
    assert cover.next[0] == 5
    # A gap inside a batch: the contiguous head is kept.
    assert cover.admit(0, [5, 6, 9], now=104.0) == (2, 7)


def test_partitions_not_re_read_pass_untouched_and_a_watch_ends() -> None:
    from streams.positions import WATCH_S, Coverage

    cover: Coverage[int] = Coverage()
    assert cover.admit(1, [40, 90], now=0.0) == (2, None)
    cover.watch(0, 0, now=0.0)
    cover.extend(0, now=30.0)  # the group gave it back: watched on
    cover.extend(1, now=30.0)  # never re-read: not watched
    assert 1 not in cover.next
    assert cover.admit(0, [0, 5], now=30.0 + WATCH_S - 1) == (1, 1)
    assert cover.admit(0, [7], now=30.0 + WATCH_S + 1) == (1, None)
    assert 0 not in cover.next
