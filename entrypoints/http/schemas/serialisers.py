"""The fields of an answer taken from a domain entity, by a function derived once, at import,
from the response model's fields: the model is the one list of what an answer holds.

The function is generated as plain Python (as ``dataclasses`` does for ``__init__``): one
dictionary display of attribute reads, as fast as the hand-written one it replaces. The
fields are serialised as they are (see ``bodies.json_body``), not built into the model, and
a unit test holds them to the JSON the model would give."""

from __future__ import annotations

import types
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel

Fields = dict[str, Any]
Model = TypeVar("Model", bound=type[BaseModel])

# Serialised as they are, by pydantic's serialiser (the adapters give ids as plain UUIDs,
# which it writes natively).
_AS_THEY_ARE = (str, int, bool, float, datetime, uuid.UUID)


def _values(members: Iterable[Enum]) -> list[Any]:
    """A set of enum members as the sorted list of their values: the same list each time."""
    return sorted([member.value for member in members])


_HELPERS: dict[str, Any] = {"_values": _values}


def _expression(annotation: Any, source: str) -> str:
    """The Python expression turning ``source`` into the JSON-ready value of a field of
    type ``annotation``."""
    if annotation in _AS_THEY_ARE:
        return source
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return f"{source}.value"
    origin, arguments = get_origin(annotation), get_args(annotation)
    if origin is list and isinstance(arguments[0], type) and issubclass(arguments[0], Enum):
        return f"_values({source})"
    if origin in (Union, types.UnionType) and type(None) in arguments:
        [inner] = [argument for argument in arguments if argument is not type(None)]
        converted = _expression(inner, source)
        return source if converted == source else f"(None if {source} is None else {converted})"
    raise TypeError(f"no serialiser for a field of type {annotation!r}")


def derive(
    model: type[BaseModel], entity: type, arguments: tuple[str, ...], sources: dict[str, str]
) -> Callable[..., Fields]:
    """``of(entity, *arguments)``: the fields of ``model`` read from the attributes of the
    same name of an ``entity``, or from the dotted path ``sources`` names (``email.value``);
    a field named in ``arguments`` is passed in as it is."""
    entries = []
    for name, field in model.model_fields.items():
        if name in arguments:
            entries.append(f"{name!r}: {name}")
            continue
        path = sources.get(name, name)
        if not hasattr(entity, path.split(".")[0]):
            raise TypeError(f"{model.__name__}.{name}: {entity.__name__} has no {path}")
        entries.append(f"{name!r}: {_expression(field.annotation, f'entity.{path}')}")
    parameters = ", ".join(["entity", *arguments])
    code = f"def of({parameters}):\n    return {{{', '.join(entries)}}}\n"
    namespace: dict[str, Any] = {}
    exec(compile(code, f"<{model.__name__}.of>", "exec"), dict(_HELPERS), namespace)  # noqa: S102
    function: Callable[..., Fields] = namespace["of"]
    function.__qualname__ = f"{model.__name__}.of"
    return function


def serialised(
    entity: type, *, arguments: tuple[str, ...] = (), **sources: str
) -> Callable[[Model], Model]:
    """Gives a response model its ``of``, derived from its fields (see ``derive``)."""

    def decorate(model: Model) -> Model:
        setattr(model, "of", staticmethod(derive(model, entity, arguments, sources)))  # noqa: B010
        return model

    return decorate
