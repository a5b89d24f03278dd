"""Decode alone: recorded page bodies through each decoder, no network, nothing kept.

The pages are fetched once from the emulator, then every decoder turns all of them into Python
objects, in alternating order, several times; the median time gives records/s and MB/s.
"""

from __future__ import annotations

import gc
import json
import statistics
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import msgspec
import orjson

from paren_async import Location

from . import _pydantic_models
from ._contenders import AUTHORIZATION, Target

__all__ = ["DECODERS", "DecodeResult", "record_pages", "run_decode"]


class _TypedEnvelope(msgspec.Struct, frozen=True, gc=False):
    data: tuple[Location, ...] = ()


class _RawEnvelope(msgspec.Struct, frozen=True, gc=False):
    data: tuple[msgspec.Raw, ...] = ()


_TYPED: Final = msgspec.json.Decoder(_TypedEnvelope, strict=False)
_RAW: Final = msgspec.json.Decoder(_RawEnvelope)
_UNTYPED: Final = msgspec.json.Decoder()


def _typed(body: bytes) -> int:
    return len(_TYPED.decode(body).data)


def _raw(body: bytes) -> int:
    return len(_RAW.decode(body).data)


def _msgspec_untyped(body: bytes) -> int:
    return len(_UNTYPED.decode(body)["data"])


def _orjson(body: bytes) -> int:
    return len(orjson.loads(body)["data"])


def _json(body: bytes) -> int:
    return len(json.loads(body)["data"])


def _pydantic(body: bytes) -> int:
    return len(_pydantic_models.Envelope.model_validate_json(body).data or ())


@dataclass(frozen=True, slots=True)
class Decoder:
    key: str
    label: str
    decode: Callable[[bytes], int]


DECODERS: Final = (
    Decoder("raw", "msgspec Raw envelope (paren-async `.raw()`)", _raw),
    Decoder("typed", "msgspec typed Structs (paren-async models)", _typed),
    Decoder("msgspec", "msgspec untyped (dicts)", _msgspec_untyped),
    Decoder("orjson", "orjson.loads", _orjson),
    Decoder("json", "json.loads", _json),
    Decoder("pydantic", "pydantic v2 `model_validate_json`", _pydantic),
)


@dataclass(frozen=True, slots=True)
class DecodeResult:
    key: str
    label: str
    records: int
    megabytes: float
    seconds: float  # median over repeats

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds

    @property
    def megabytes_per_second(self) -> float:
        return self.megabytes / self.seconds


def record_pages(target: Target) -> list[bytes]:
    """Every page body of the collection, as the server sent them (identity encoding)."""
    bodies = []
    for url in target.page_urls():
        request = urllib.request.Request(url, headers={"Authorization": AUTHORIZATION})
        with urllib.request.urlopen(request, timeout=30) as response:  # loopback only
            bodies.append(response.read())
    return bodies


def run_decode(bodies: list[bytes], *, repeats: int) -> list[DecodeResult]:
    megabytes = sum(map(len, bodies)) / 1e6
    times: dict[str, list[float]] = {decoder.key: [] for decoder in DECODERS}
    records: dict[str, int] = {}
    for decoder in DECODERS:  # warm-up: first-call costs (pydantic builds validators lazily)
        decoder.decode(bodies[0])
    for repeat in range(repeats):
        order = DECODERS if repeat % 2 == 0 else DECODERS[::-1]
        for decoder in order:
            gc.collect()
            decode = decoder.decode
            started = time.perf_counter()
            count = 0
            for body in bodies:
                count += decode(body)
            times[decoder.key].append(time.perf_counter() - started)
            records[decoder.key] = count
    return [
        DecodeResult(
            key=decoder.key,
            label=decoder.label,
            records=records[decoder.key],
            megabytes=megabytes,
            seconds=statistics.median(times[decoder.key]),
        )
        for decoder in DECODERS
    ]
