"""Raw HTTP against a running ParenEmulator: what the emulator tests use instead of the client.

The emulator's tests must not depend on the client they exist to test, so they speak HTTP with a
bare aiohttp session and check bytes, statuses and headers directly.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec

from paren_async.testing import ParenEmulator

METADATA = "/metadata/v1/locations"
REALTIME = "/realtime/v1/locations"
#: UTC, microseconds, Z: the documented envelope timestamp.
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return msgspec.json.decode(self.body)

    @property
    def data(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.json()["data"]
        return data

    @property
    def ids(self) -> list[str]:
        return [record["id"] for record in self.data]


class Api:
    """GETs against one emulator through one keep-alive session."""

    def __init__(self, emulator: ParenEmulator, session: aiohttp.ClientSession) -> None:
        self.emulator = emulator
        self.session = session

    async def get(
        self,
        path: str = METADATA,
        *,
        auth: str | None = "",
        headers: Mapping[str, str] | None = None,
        timeout: float = 5.0,
        **params: Any,
    ) -> Reply:
        """``auth=""`` sends the emulator's credentials, ``None`` none, other text as is."""
        sent = dict(headers or {})
        if auth == "":
            auth = basic(self.emulator.api_key, self.emulator.api_secret)
        if auth is not None:
            sent["Authorization"] = auth
        query = {name: str(value) for name, value in params.items()}
        async with self.session.get(
            self.emulator.url + path,
            params=query,
            headers=sent,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            body = await response.read()
            return Reply(response.status, dict(response.headers), body)

    async def walk(self, path: str = METADATA, *, limit: int = 100, **params: Any) -> list[str]:
        """Every id, page by page, until a short page (what a correct client does)."""
        ids: list[str] = []
        while True:
            page = await self.get(path, limit=limit, offset=len(ids), **params)
            assert page.status == 200, page.body[:200]
            ids.extend(page.ids)
            if len(page.ids) < limit:
                return ids


@contextlib.asynccontextmanager
async def api_for(emulator: ParenEmulator, **session_options: Any) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession(**session_options) as session:
        yield Api(emulator, session)


def emulator_env(emulator: ParenEmulator | None, **changes: str) -> dict[str, str]:
    """This process's environment without ``PAREN_*``, pointed at ``emulator`` if given."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PAREN_")}
    if emulator is not None:
        env.update(
            PAREN_BASE_URL=emulator.url,
            PAREN_API_KEY=emulator.api_key,
            PAREN_API_SECRET=emulator.api_secret,
        )
    env.update(changes)
    return env
