"""Run the emulator (and the fake kubelet) in a background event loop for synchronous code.

The kubernetes client is synchronous; the emulator is asyncio. The harness owns one thread
with its own loop, starts the HTTP server on 127.0.0.1, writes a kubeconfig that points at it,
and lets the test thread run coroutines in that loop (`call`) to seed or inspect state safely.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import yaml
from kmock import Server

from tests.api.emulator import ClusterEmulator

T = TypeVar("T")


class EmulatorHarness:
    def __init__(self, emulator: ClusterEmulator, kubeconfig_path: Path) -> None:
        self.emulator = emulator
        self.kubeconfig = kubeconfig_path
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="emulator", daemon=True)
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.url = ""
        self.background: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._error: BaseException | None = None

    def __enter__(self) -> EmulatorHarness:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"the emulator did not start: {self._error!r}")
        if self._error is not None:
            raise self._error
        self._write_kubeconfig()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as exc:  # surfaced to the test thread in __enter__
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with self.emulator, Server(self.emulator) as server:
            self.url = str(server.url).rstrip("/")
            tasks = [asyncio.create_task(make()) for make in self.background]
            self._ready.set()
            await self._stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def call(self, coro: Awaitable[T]) -> T:
        """Run a coroutine in the emulator's loop and wait for its result."""
        async def wrap() -> T:
            return await coro
        return asyncio.run_coroutine_threadsafe(wrap(), self.loop).result(30)

    def sync(self, fn: Callable[[], T]) -> T:
        """Run a plain function in the emulator's loop (safe access to its objects)."""
        async def wrap() -> T:
            return fn()
        return self.call(wrap())

    def _write_kubeconfig(self) -> None:
        doc = {
            "apiVersion": "v1", "kind": "Config", "current-context": "emulator",
            "clusters": [{"name": "emulator", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": "test-token"}}],
            "contexts": [{"name": "emulator", "context": {"cluster": "emulator", "user": "tester"}}],
        }
        self.kubeconfig.write_text(yaml.safe_dump(doc))
