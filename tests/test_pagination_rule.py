"""The pure next-page rule: where each page starts, how big it is, and where the walk ends."""

from __future__ import annotations

import pytest

from paren_async._pagination import PageRequest, first_page, next_page


def walk(
    total: int,
    *,
    start: int = 0,
    page_size: int = 100,
    max_items: int | None = None,
    overlap: int = 0,
    cap: int = 100,
) -> list[PageRequest]:
    """The requests a sequential walk makes over `total` records, from a server capping pages at `cap`."""
    requests = []
    request = first_page(start, page_size, max_items)
    while request is not None:
        requests.append(request)
        received = max(0, min(request.limit, cap, total - request.offset))
        request = next_page(
            request,
            received,
            start=start,
            page_size=page_size,
            max_items=max_items,
            overlap=overlap,
        )
    return requests


@pytest.mark.parametrize(
    ("total", "offsets"),
    [
        pytest.param(0, [0], id="empty"),
        pytest.param(1, [0, 1], id="one"),
        pytest.param(99, [0, 99], id="99"),
        pytest.param(100, [0, 100], id="100"),
        pytest.param(101, [0, 100, 101], id="101"),
        pytest.param(250, [0, 100, 200, 250], id="250"),
    ],
)
def test_walk_ends_at_the_first_page_with_nothing_new(total: int, offsets: list[int]) -> None:
    """A short page is confirmed by one more request; only an empty page ends the walk."""
    assert [r.offset for r in walk(total)] == offsets


@pytest.mark.parametrize(
    ("total", "offsets"),
    [
        pytest.param(0, [0], id="empty"),
        pytest.param(1, [0, 0], id="one"),
        pytest.param(100, [0, 99], id="100"),
        pytest.param(250, [0, 99, 198, 249], id="250"),
    ],
)
def test_overlapping_walk_ends_when_only_the_overlap_comes_back(
    total: int, offsets: list[int]
) -> None:
    """With a one-record overlap, a page holding only the overlap record is the end."""
    requests = walk(total, overlap=1)
    assert [r.offset for r in requests] == offsets
    assert [r.overlap for r in requests] == [0] + [1] * (len(offsets) - 1)


def test_server_capping_pages_does_not_end_the_walk() -> None:
    """A server that silently returns 40 records for limit=100 is walked to the end anyway."""
    requests = walk(130, cap=40)
    assert [r.offset for r in requests] == [0, 40, 80, 120, 130]


def test_max_items_asks_for_exactly_what_remains() -> None:
    """With max_items the last page's limit is what remains, and nothing after it is asked."""
    assert walk(10_000, max_items=250) == [
        PageRequest(0, 100),
        PageRequest(100, 100),
        PageRequest(200, 50),
    ]


def test_max_items_smaller_than_a_page() -> None:
    """A max_items below page_size makes a single request of that size."""
    assert walk(10_000, max_items=7) == [PageRequest(0, 7)]


def test_max_items_zero_requests_nothing() -> None:
    """max_items=0 means no request at all."""
    assert walk(10_000, max_items=0) == []


def test_offsets_are_relative_to_the_start() -> None:
    """A walk resumed at an offset counts max_items from there."""
    assert walk(1_000, start=950, page_size=30, max_items=40) == [
        PageRequest(950, 30),
        PageRequest(980, 10),
    ]


def test_exact_multiple_of_max_items_stops_without_confirmation() -> None:
    """When max_items is reached on a full page no empty page is requested."""
    assert [r.offset for r in walk(10_000, max_items=200)] == [0, 100]
