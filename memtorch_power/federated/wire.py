"""Bytes on the wire, measured from the objects Flower actually serialises.

Flower (1.20+) moves a message as a tree of *inflatable objects*: the ``RecordDict``, each
``ArrayRecord``/``ConfigRecord``/``MetricRecord``, each ``Array`` and its ``ArrayChunk``s (the
``.npy`` bytes). Every object is pushed once as its ``deflate()`` bytes (identical chunks are
sent once, as Flower deduplicates by object id). :func:`wire_bytes` adds those up, so it is
the payload Flower transfers, without gRPC/HTTP framing and TLS.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from flwr.app import Array, ArrayRecord
from flwr.supercore.inflatable.inflatable_object import InflatableObject, get_all_nested_objects


def wire_bytes(obj: InflatableObject) -> int:
    """Bytes Flower pushes for ``obj`` (a RecordDict, ArrayRecord, Message content ...): the
    sum of ``len(deflate())`` over ``obj`` and every unique nested object."""
    return sum(len(nested.deflate()) for nested in get_all_nested_objects(obj).values())


def array_payload_bytes(record: ArrayRecord) -> int:
    """Bytes of the serialised arrays alone (``.npy`` data of every ``Array``; no keys or headers)."""
    return sum(len(array.data) for array in record.values())


def to_array_record(arrays: Mapping[str, np.ndarray]) -> ArrayRecord:
    """An ``ArrayRecord`` holding ``arrays`` in their order (numpy ``.npy`` serialisation)."""
    return ArrayRecord({key: Array(np.ascontiguousarray(value)) for key, value in arrays.items()})


def from_array_record(record: ArrayRecord) -> "dict[str, np.ndarray]":
    """The numpy arrays of ``record`` by key."""
    return {key: array.numpy() for key, array in record.items()}


__all__ = ["array_payload_bytes", "from_array_record", "to_array_record", "wire_bytes"]
