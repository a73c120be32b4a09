"""Rendered JSON of objects, cached by version, so a page of objects costs a cache read.

Serializing a Location with its EVSEs and connectors costs far more than reading it; a full
pull or a hot GET would spend nearly all its time there. So each object's JSON is kept in
the cache under (namespace, primary key, version) and embedded verbatim in the response
(simplejson.RawJSON). Exactness rests on the version: it must change whenever anything the
rendering shows changes. The caller picks it (e.g. created_at and a last_updated that every
write moves forward) and `code_version()` folds the rendering code itself into the namespace,
so a deployment that renders differently never serves what the previous one cached.

A miss loads the objects afresh and caches each under the version it was loaded at, never
under the version the caller's (possibly older) row showed.
"""

import hashlib
import inspect
from collections.abc import Callable, Iterable, Sequence
from functools import cache as once
from types import ModuleType
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, BaseCache, caches
from simplejson import RawJSON

from ocpi.json import dumps

CACHE_SECONDS = 7 * 24 * 3600


@once
def shared_cache() -> BaseCache:
    """The default cache, one instance per process.

    `django.core.cache.cache` is one instance per request context under ASGI, and with it a
    new connection to Redis on every request; the backends are safe to share across threads.
    """
    return caches.create_connection(DEFAULT_CACHE_ALIAS)


def code_version(*modules: ModuleType) -> str:
    """A short digest of the source of the modules that render: part of the namespace."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(inspect.getsource(module).encode())
    return digest.hexdigest()[:12]


def _key(namespace: str, pk: Any, version: str) -> str:
    return f"ocpi:json:{namespace}:{pk}:{version}"


def cached_json(
    rows: Sequence[Any],
    *,
    namespace: str,
    version: Callable[[Any], str],
    load: Callable[[list[Any]], Iterable[Any]],
    render: Callable[[Sequence[Any]], list[Any]],
) -> list[RawJSON]:
    """The JSON of each of `rows` (objects with a pk and what `version` reads), in order.

    Misses are loaded with `load(primary keys)` (the full objects, any order; an object
    gone since is left out) and rendered with `render(objects)`, one call for the page.
    """
    keys = [_key(namespace, row.pk, version(row)) for row in rows]
    cache = shared_cache()
    found: dict[str, str] = cache.get_many(keys)
    missing = [row.pk for row, key in zip(rows, keys, strict=True) if key not in found]
    if not missing:
        return [RawJSON(found[key]) for key in keys]
    fresh = list(load(missing))
    texts = [dumps(data) for data in render(fresh)]
    pairs = list(zip(fresh, texts, strict=True))
    cache.set_many({_key(namespace, o.pk, version(o)): text for o, text in pairs}, CACHE_SECONDS)
    by_pk = {obj.pk: text for obj, text in pairs}
    result = []
    for row, key in zip(rows, keys, strict=True):
        text = found.get(key) or by_pk.get(row.pk)
        if text is not None:
            result.append(RawJSON(text))
    return result
