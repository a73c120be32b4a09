"""Objects' JSON cached by version (ocpi.jsoncache): what is served is what was rendered for
exactly that version, and a page's misses cost one load and one render."""

import uuid
from collections.abc import Sequence
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from ocpi import json, jsoncache
from ocpi.jsoncache import cached_json, code_version


class Store:
    """Objects by primary key, as a database would hand them out, counting loads/renders."""

    def __init__(self, **versions: str) -> None:
        self.rows = {int(pk[1:]): version for pk, version in versions.items()}
        self.loads: list[list[int]] = []
        self.renders = 0

    def row(self, pk: int) -> SimpleNamespace:
        return SimpleNamespace(pk=pk, version=self.rows[pk])

    def load(self, pks: list[int]) -> list[SimpleNamespace]:
        self.loads.append(sorted(pks))
        return [self.row(pk) for pk in pks if pk in self.rows]

    def render(self, objects: Sequence[Any]) -> list[dict[str, Any]]:
        self.renders += 1
        return [
            {"id": obj.pk, "version": obj.version, "price": Decimal("0.250")} for obj in objects
        ]


@pytest.fixture
def namespace() -> str:
    """A namespace of its own per test: the cache outlives the test's database."""
    return f"test-{uuid.uuid4()}"


def served(store: Store, namespace: str, *pks: int, keep: bool = True) -> list[Any]:
    rows = [store.row(pk) for pk in pks]
    raw = cached_json(
        rows,
        namespace=namespace,
        version=lambda obj: obj.version,
        load=store.load,
        render=store.render,
        keep=keep,
    )
    return [json.loads(json.dumps(item)) for item in raw]


def test_misses_are_loaded_and_rendered_once_for_the_page_then_served_from_the_cache(
    namespace: str,
) -> None:
    store = Store(p1="a", p2="a", p3="a")

    first = served(store, namespace, 1, 2, 3)
    again = served(store, namespace, 1, 2, 3)

    assert (
        first
        == again
        == [
            {"id": 1, "version": "a", "price": Decimal("0.250")},
            {"id": 2, "version": "a", "price": Decimal("0.250")},
            {"id": 3, "version": "a", "price": Decimal("0.250")},
        ]
    )
    assert (store.loads, store.renders) == ([[1, 2, 3]], 1)


def test_a_new_version_is_rendered_afresh_and_only_it(namespace: str) -> None:
    store = Store(p1="a", p2="a")
    served(store, namespace, 1, 2)

    store.rows[2] = "b"
    page = served(store, namespace, 1, 2)

    assert [item["version"] for item in page] == ["a", "b"]
    assert store.loads == [[1, 2], [2]]


def test_json_is_cached_under_the_version_loaded_not_the_version_the_row_showed(
    namespace: str,
) -> None:
    """A write between the page's read and the load: the newer JSON is served, and cached
    under the newer version only, so the older version never maps to newer content."""
    store = Store(p1="a")
    stale_row = store.row(1)
    store.rows[1] = "b"

    raw = cached_json(
        [stale_row],
        namespace=namespace,
        version=lambda obj: obj.version,
        load=store.load,
        render=store.render,
    )
    stored = jsoncache.shared_store().get_many(
        [f"ocpi:json:{namespace}:1:a", f"ocpi:json:{namespace}:1:b"]
    )

    assert json.loads(json.dumps(raw))[0]["version"] == "b"
    assert list(stored) == [f"ocpi:json:{namespace}:1:b"]


def test_an_object_gone_before_it_was_loaded_is_left_out(namespace: str) -> None:
    store = Store(p1="a", p2="a", p3="a")
    rows = [store.row(pk) for pk in (1, 2, 3)]
    del store.rows[2]

    raw = cached_json(
        rows,
        namespace=namespace,
        version=lambda obj: obj.version,
        load=store.load,
        render=store.render,
    )

    assert [item["id"] for item in json.loads(json.dumps(raw))] == [1, 3]


def test_the_code_that_renders_is_part_of_the_namespace() -> None:
    assert code_version(json) == code_version(json)
    assert code_version(json) != code_version(jsoncache)
    assert len(code_version(json, jsoncache)) == 12


def test_a_text_read_once_is_then_served_from_the_process_memory(namespace: str) -> None:
    store = Store(p1="a")
    first = served(store, namespace, 1)
    key = f"ocpi:json:{namespace}:1:a"
    forget_shared(key)

    again = served(store, namespace, 1)

    assert again == first
    assert store.loads == [[1]]
    assert jsoncache.shared_store().get_many([key]) == {}


def test_a_text_found_in_the_shared_store_is_kept_in_the_process_memory(namespace: str) -> None:
    key = f"ocpi:json:{namespace}:7:a"
    jsoncache.shared_store().set_many({key: '{"id":7}'}, 60)

    page = served(Store(p7="a"), namespace, 7)

    assert page == [{"id": 7}]
    assert jsoncache.local_cache().get_many([key]) == {key: '{"id":7}'}


def test_the_process_memory_forgets_the_least_recently_used_beyond_its_capacity() -> None:
    local = jsoncache.LocalCache(capacity=10)
    local.set_many({"a": "1234", "b": "1234"})
    local.get_many(["a"])  # now "b" is the least recently used

    local.set_many({"c": "1234", "huge": "x" * 11})

    assert local.get_many(["a", "b", "c", "huge"]) == {"a": "1234", "c": "1234"}
    assert local.size == 8


def forget_shared(key: str) -> None:
    store = jsoncache.shared_store()
    if isinstance(store, jsoncache.RedisStore):
        store.client.delete(key)
    else:
        assert isinstance(store, jsoncache.DjangoCacheStore)
        store.backend.delete(store.safe(key))


def test_versions_with_spaces_are_kept_and_found(namespace: str) -> None:
    store = Store(p1="2026-01-01 10:00:00+00|2026-01-02 11:00:00.5+00")

    first = served(store, namespace, 1)
    again = served(store, namespace, 1)

    assert first == again
    assert store.loads == [[1]]


def test_what_is_not_worth_keeping_stays_out_of_the_process_memory(namespace: str) -> None:
    store = Store(p1="a", p2="a")
    keys = [f"ocpi:json:{namespace}:{pk}:a" for pk in (1, 2)]
    jsoncache.shared_store().set_many({keys[0]: '{"id":1}'}, 60)

    page = served(store, namespace, 1, 2, keep=False)

    assert [item["id"] for item in page] == [1, 2]
    assert jsoncache.local_cache().get_many(keys) == {}
    assert set(jsoncache.shared_store().get_many(keys)) == set(keys)
