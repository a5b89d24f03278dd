"""Drift stitching: where each page's new records start, from ids alone (no I/O)."""

from __future__ import annotations

import pytest

from paren_async._drift import Stitcher


def stitched(*pages: str) -> Stitcher:
    stitcher = Stitcher()
    for page in pages:
        stitcher.accept(list(page))
    return stitcher


class TestPlace:
    @pytest.mark.parametrize(
        ("page", "start"),
        [
            pytest.param("cdef", 1, id="intact-boundary"),
            pytest.param("abcde", 3, id="two-inserts-before-the-cursor"),
            pytest.param("bcd", 2, id="one-insert"),
            pytest.param("efg", None, id="removals-need-a-re-read"),
            pytest.param("", None, id="empty-page-after-an-overlap"),
        ],
    )
    def test_checked_pages(self, page: str, start: int | None) -> None:
        """A page asked with an overlap starts after the last record already seen, or re-reads."""
        assert stitched("abc").place(list(page), checked=True) == start

    def test_first_page_and_unchecked_pages_start_at_zero(self) -> None:
        """Without an overlap there is nothing to check: only a repeated anchor is dropped."""
        assert Stitcher().place(list("abc"), checked=True) == 0
        assert stitched("abc").place(list("xyz"), checked=False) == 0
        assert stitched("abc").place(list("cxy"), checked=False) == 1

    def test_a_resumed_walk_finds_its_last_record(self) -> None:
        """Resuming with the last ids yielded: the page re-read before the point is skipped."""
        stitcher = Stitcher(last_ids=["k", "l", "m"])
        # Five records before the point were removed while stopped: `m` moved to index 2.
        assert stitcher.place(list("klmnop"), checked=True) == 3


class TestRecover:
    def test_skipped_records_are_found_between_the_anchor_and_the_page(self) -> None:
        """Removals before the cursor: the re-read holds the records that slipped back."""
        stitcher = stitched("abcd")
        recovery = stitcher.recover(10, list("cdefg"), page_first="g")
        assert (recovery.skipped, recovery.closed, recovery.anchored) == ((2, 3), True, True)

    def test_a_gap_that_moved_again_is_re_read_forward(self) -> None:
        """Regression (issue 10, 2.3): the collection moved back between page and re-read."""
        stitcher = stitched("wxy")  # `y` was yielded; the page came back starting at `{`
        first = stitcher.recover(97, list("uvwxy"), page_first="{")
        assert (first.skipped, first.closed) == ((), False)
        assert first.next_offset == 97 + 4  # from `y`, the last record known
        second = stitcher.recover(first.next_offset, list("yz{|"), page_first="{")
        assert (second.skipped, second.closed, second.anchored) == ((1,), True, True)

    def test_a_re_read_with_nothing_familiar_is_reported(self) -> None:
        """More than the reach shifted: the gap is closed as unrecovered, never as complete."""
        recovery = stitched("abc").recover(0, list("pqr"), page_first="s")
        assert (recovery.skipped, recovery.closed, recovery.anchored) == ((0, 1, 2), True, False)
