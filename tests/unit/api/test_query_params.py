"""Which query strings repeat a scalar parameter (api/query_params.py)."""

from __future__ import annotations

import pytest

from visiovox.api.query_params import repeated_name


@pytest.mark.parametrize(
    ("query", "name"),
    [
        (b"", None),
        (b"limit=1", None),
        (b"limit=1&cursor=2", None),
        (b"limit=1&limit=1", "limit"),
        (b"limit=1&cursor=a&cursor=b", "cursor"),
        (b"%6Cimit=1&limit=2", "limit"),
        (b"a+b=1&a%20b=2", "a b"),
        (b"flag&flag", "flag"),
        (b"ids[]=1&ids[]=2", None),
        (b"ids%5B%5D=1&ids[]=2", None),
    ],
)
def test_repeated_name(query: bytes, name: str | None) -> None:
    assert repeated_name(query) == name
