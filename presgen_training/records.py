"""Building one settings record from another's values of the same name (parsed options, course settings)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


def by_name(record: type[R], values: Mapping[str, Any], **given: Any) -> R:
    """A ``record`` of ``given``, its other fields taken from ``values`` of the same name (else their defaults)."""
    named = {f.name: values[f.name] for f in dataclasses.fields(record) if f.name in values and f.name not in given}
    return record(**named, **given)
