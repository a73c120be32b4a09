"""Rendered JSON of objects, cached by version, so a page of objects costs a cache read.

Serializing a Location with its EVSEs and connectors costs far more than reading it; a full
pull or a hot GET would spend nearly all its time there. So each object's JSON is kept in
the cache under (namespace, primary key, version) and embedded verbatim in the response
(simplejson.RawJSON). Exactness rests on one thing, the version: it must change whenever
anything the rendering shows changes. The caller picks it; for locations it is created_at
and last_updated, exact because every write stamps last_updated with
`ocpi.time.moment_after()`, strictly later than before (tests/ocpi/test_moment_after.py
fails when a write could keep it). `code_version()` folds the rendering code itself into
the namespace, so a deployment that renders differently never serves what the previous one
cached.

A miss loads the objects afresh and caches each under the version it was loaded at, never
under the version the caller's (possibly older) row showed.

Two levels: the shared store (Redis when REDIS_URL is set, read with one MGET; else Django's
default cache), which every process fills and reads, and in front of it a small cache in
the process's memory (OCPI_JSON_LOCAL_BYTES) for the objects asked for most, such as a
location many partners GET. A key never changes meaning, so neither level is ever stale;
the local one only forgets the least recently used when full.
"""

import hashlib
import inspect
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache as once
from types import ModuleType
from typing import Any, Protocol
from urllib.parse import quote

import redis
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, BaseCache, caches
from simplejson import RawJSON

from ocpi.json import dumps

CACHE_SECONDS = 7 * 24 * 3600


class Store(Protocol):
    def get_many(self, keys: Sequence[str]) -> dict[str, str]: ...

    def set_many(self, texts: Mapping[str, str], timeout: int) -> None: ...


class RedisStore:
    """JSON texts as UTF-8 strings in Redis: one MGET for a page, no pickling, no per-key
    checks (Django's cache validates and unpickles key by key, a cost per key)."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, decode_responses=True)

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        values: list[str | None] = self.client.mget(keys)  # type: ignore[assignment]
        return {key: value for key, value in zip(keys, values, strict=True) if value is not None}

    def set_many(self, texts: Mapping[str, str], timeout: int) -> None:
        with self.client.pipeline(transaction=False) as pipe:
            for key, text in texts.items():
                pipe.set(key, text, ex=timeout)
            pipe.execute()


class DjangoCacheStore:
    """The default cache (the file-based one on a single machine without Redis)."""

    def __init__(self, backend: BaseCache) -> None:
        self.backend = backend

    @staticmethod
    def safe(key: str) -> str:
        """The key without the characters Django's cache warns about (spaces, controls)."""
        return quote(key, safe=":|+-._")

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        safe = {self.safe(key): key for key in keys}
        return {safe[key]: text for key, text in self.backend.get_many(list(safe)).items()}

    def set_many(self, texts: Mapping[str, str], timeout: int) -> None:
        self.backend.set_many({self.safe(key): text for key, text in texts.items()}, timeout)


@once
def shared_store() -> Store:
    """One per process: the clients are safe to share across threads (`django.core.cache.
    cache` is one instance per request context under ASGI, a new connection each time)."""
    if settings.REDIS_URL:
        return RedisStore(settings.REDIS_URL)
    return DjangoCacheStore(caches.create_connection(DEFAULT_CACHE_ALIAS))


class LocalCache:
    """The most recently used texts, up to `capacity` characters in all."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.size = 0
        self.texts: OrderedDict[str, str] = OrderedDict()
        self.lock = threading.Lock()

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        found = {}
        with self.lock:
            for key in keys:
                text = self.texts.get(key)
                if text is not None:
                    self.texts.move_to_end(key)
                    found[key] = text
        return found

    def set_many(self, texts: Mapping[str, str]) -> None:
        with self.lock:
            for key, text in texts.items():
                if len(text) > self.capacity or key in self.texts:
                    continue
                self.texts[key] = text
                self.size += len(text)
            while self.size > self.capacity:
                _, dropped = self.texts.popitem(last=False)
                self.size -= len(dropped)


@once
def local_cache() -> LocalCache:
    return LocalCache(settings.OCPI_JSON_LOCAL_BYTES)


def code_version(*modules: ModuleType) -> str:
    """A short digest of the source of the modules that render: part of the namespace."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(inspect.getsource(module).encode())
    return digest.hexdigest()[:12]


def _key(namespace: str, pk: Any, version: str) -> str:
    return f"ocpi:json:{namespace}:{pk}:{version}"


def _cached(keys: Sequence[str], *, keep: bool) -> dict[str, str]:
    """The texts of `keys` found locally, else in the shared store (then kept locally when
    `keep`)."""
    local = local_cache()
    found = local.get_many(keys)
    if len(found) < len(keys):
        shared = shared_store().get_many([key for key in keys if key not in found])
        if keep:
            local.set_many(shared)
        found.update(shared)
    return found


def cached_json(
    rows: Sequence[Any],
    *,
    namespace: str,
    version: Callable[[Any], str],
    load: Callable[[list[Any]], Iterable[Any]],
    render: Callable[[Sequence[Any]], list[Any]],
    keep: bool = True,
) -> list[RawJSON]:
    """The JSON of each of `rows` (objects with a pk and what `version` reads), in order.

    Misses are loaded with `load(primary keys)` (the full objects, any order; an object
    gone since is left out) and rendered with `render(objects)`, one call for the page.
    `keep`: whether what is read is worth this process's memory: an object asked for by
    itself (often asked again), not the pages of a full pull, which stream through and
    would only push those out.
    """
    keys = [_key(namespace, row.pk, version(row)) for row in rows]
    found = _cached(keys, keep=keep)
    missing = [row.pk for row, key in zip(rows, keys, strict=True) if key not in found]
    if not missing:
        return [RawJSON(found[key]) for key in keys]
    fresh = list(load(missing))
    texts = [dumps(data) for data in render(fresh)]
    pairs = list(zip(fresh, texts, strict=True))
    rendered = {_key(namespace, o.pk, version(o)): text for o, text in pairs}
    shared_store().set_many(rendered, CACHE_SECONDS)
    if keep:
        local_cache().set_many(rendered)
    by_pk = {obj.pk: text for obj, text in pairs}
    result = []
    for row, key in zip(rows, keys, strict=True):
        text = found.get(key) or by_pk.get(row.pk)
        if text is not None:
            result.append(RawJSON(text))
    return result
