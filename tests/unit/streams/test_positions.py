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
