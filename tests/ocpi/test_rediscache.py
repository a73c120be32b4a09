"""ocpi.rediscache: one Redis client per pool, and add_many on every cache backend."""

import uuid

from django.core.cache import cache

from ocpi.rediscache import RedisCache, add_many


def test_a_redis_cache_keeps_one_client_per_connection_pool():
    """Django's builds one per call (0.2 ms of CPU each); no server is needed to see it."""
    backend = RedisCache("redis://127.0.0.1:9/0", {})

    assert backend._cache.get_client(write=True) is backend._cache.get_client(write=True)
    assert backend._cache.get_client("a key") is backend._cache.get_client(write=True)


def test_add_many_sets_only_the_keys_that_were_free_and_says_which():
    """On the configured cache: Redis in one pipeline, the file-based cache key by key."""
    prefix = f"test:add-many:{uuid.uuid4().hex}"
    taken, free = f"{prefix}:taken", [f"{prefix}:free-{n}" for n in range(3)]
    cache.set(taken, "before", 60)

    added = add_many(cache, [free[0], taken, free[1], free[2]], 1, 60)

    assert added == free
    assert cache.get(taken) == "before"
    assert cache.get_many(free) == dict.fromkeys(free, 1)
    assert add_many(cache, free, 2, 60) == []
    assert cache.get(free[0]) == 1
