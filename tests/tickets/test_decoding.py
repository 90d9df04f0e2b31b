"""The application's faster decoding of stored events (ids from their hex
digits, actors decoded once each) reads exactly what the library's does."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from tickets.application import InternedActors, UUIDFromHex
from tickets.domain import Actor, ActorAsDict
from tickets.event_rows import uuid_from_hex


def test_an_id_read_from_its_hex_digits_is_the_uuid_of_them() -> None:
    for _ in range(200):
        value = uuid4()
        for text in (value.hex, value.hex.upper(), str(value)):
            fast = uuid_from_hex(text)
            assert fast == value and type(fast) is UUID
            assert (fast.int, fast.is_safe, hash(fast)) == (
                value.int,
                value.is_safe,
                hash(value),
            )
            assert str(fast) == str(value) and fast.version == value.version
    assert UUIDFromHex().decode(value.hex) == value


@pytest.mark.parametrize(
    "text",
    [
        "0x" + "a" * 30,  # int() would take the prefix
        "a" * 31 + "g",
        "a" * 30 + "_1",
        " " + "a" * 31,
        "+" + "a" * 31,
        "\u0660" * 32,  # digits int() reads
        "{" + "a" * 32 + "}",
        "urn:uuid:" + "a" * 32,
        "a" * 31,
        "",
    ],
)
def test_other_text_is_read_or_refused_as_uuid_does(text: str) -> None:
    try:
        expected: UUID | type[ValueError] = UUID(text)
    except ValueError:
        expected = ValueError
    if expected is ValueError:
        with pytest.raises(ValueError):
            uuid_from_hex(text)
    else:
        assert uuid_from_hex(text) == expected


def test_each_actor_is_decoded_once_and_equal_to_the_librarys() -> None:
    interned, plain = InternedActors(size=2), ActorAsDict()
    actor = Actor(
        kind="user", id="7", name="Ann Lee", short_name="Ann", department="CS"
    )
    data = plain.encode(actor)
    first, again = interned.decode(dict(data)), interned.decode(dict(data))
    assert first == plain.decode(dict(data)) == actor
    assert first is again
    for n in range(3):  # past its size: forgets, still right
        other = Actor(kind="user", id=str(n), name="x", short_name="x")
        assert interned.decode(plain.encode(other)) == other
    assert interned.decode(dict(data)) == actor
    with pytest.raises(ValueError):
        interned.decode({**data, "kind": "martian"})
