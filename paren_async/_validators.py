"""Conditional requests: a page's server-sent validator, and the ids of the records it held."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ._http import header

_Entry = tuple[tuple[tuple[str, str], ...], tuple[object, ...]]


class PageValidators:
    """The validators of one walk's pages, for the next walk of the same endpoint and filters.

    Pass the same object to each walk (``pager.raw_pages(validators=...)``): a page is requested
    with ``If-None-Match`` / ``If-Modified-Since`` only when the last walk saw a validator for
    exactly that request, and a 304 then stands for the same records as before. Paren does not
    document ``ETag`` or ``Last-Modified``, so nothing depends on them. Only ids are kept, a few
    bytes per record. ``hits`` counts the pages a server answered 304.
    """

    def __init__(self) -> None:
        self._pages: dict[str, _Entry] = {}
        #: What each conditional request was sent with: its 304 stands for these ids, whatever
        #: another walk learnt for the same page meanwhile.
        self._sent: dict[str, _Entry] = {}
        #: Pages read, not yet known to have been yielded whole (see ``settle``).
        self._pending: dict[str, _Entry | None] = {}
        self.hits = 0

    def __len__(self) -> int:
        return len(self._pages)

    def headers(self, url: str) -> tuple[tuple[str, str], ...]:
        """The conditional headers for a request to ``url`` (none when nothing is known)."""
        known = self._pages.get(url)
        if known is None:
            return ()
        self._sent[url] = known
        return known[0]

    def remember(
        self, url: str, headers: Mapping[str, str], ids: Callable[[], Sequence[object]]
    ) -> None:
        """A 200 for ``url``: keep its validator (if it sent one) and the ids of its records."""
        pairs = (("If-None-Match", "ETag"), ("If-Modified-Since", "Last-Modified"))
        sent = tuple((name, value) for name, key in pairs if (value := header(headers, key)))
        self._pending[url] = (sent, tuple(ids())) if sent else None

    def settle(self, url: str, whole: bool) -> None:
        """The walk used the page read for ``url``: keep its validator only if the page was
        ``whole`` (each record yielded or the overlap), lest a later 304 hide a record's update."""
        entry = self._pending.pop(url, self._pages.get(url))  # not pending: a 304
        if entry is not None and whole:
            self._pages[url] = entry
        else:
            self._pages.pop(url, None)

    def ids(self, url: str) -> tuple[object, ...]:
        """The ids of the records a 304 for ``url`` stands for."""
        self.hits += 1
        return (self._sent.get(url) or self._pages[url])[1]
