"""Hypothesis strategies for the fuzz tests: values from the catalog's JSON schemas, and the
mutations bad input is made of (wrong types, missing keys, huge strings, unicode, nulls, NaN and
infinity, deep nesting)."""

from __future__ import annotations

import math
from datetime import timezone
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

#: Settings suited to examples that go over HTTP: few, no deadline, reproducible, no database,
#: and no shrinking (each step is a run against the sandbox: a failure is reported as found).
HTTP_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)

#: Any unicode text but lone surrogates (no UTF-8 form: test_fuzz_target.py tests them apart).
UNICODE = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
TIMESTAMPS = st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: d.isoformat())


def from_schema(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped by a JSON schema (loosely: types, properties, items, enums, date-times)."""
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return st.one_of([from_schema(option, depth) for option in schema[combinator]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kinds = schema.get("type", "string")
    if isinstance(kinds, list):
        return st.one_of([from_schema({**schema, "type": kind}, depth) for kind in kinds])
    if kinds == "object":
        if depth >= 3:
            return st.just({})
        properties = schema.get("properties", {})
        return st.fixed_dictionaries(
            {}, optional={name: from_schema(sub, depth + 1) for name, sub in properties.items()}
        )
    if kinds == "array":
        if depth >= 3:
            return st.just([])
        return st.lists(from_schema(schema.get("items", {}), depth + 1), max_size=3)
    if kinds == "string":
        return TIMESTAMPS if schema.get("format") == "date-time" else st.text(max_size=20)
    if kinds == "integer":
        return st.integers(min_value=0, max_value=10**6)
    if kinds == "number":
        return st.one_of(
            st.integers(min_value=0, max_value=10**6),
            st.floats(min_value=0, max_value=1e6, allow_nan=False),
        )
    if kinds == "boolean":
        return st.booleans()
    return st.none()


def nested(depth: int) -> Any:
    """A value nested ``depth`` levels deep (objects in lists)."""
    value: Any = "deep"
    for level in range(depth):
        value = {"level": level, "inner": [value]}
    return value


#: Replacement values by kind of mutation ("delete" removes the key instead).
MUTATIONS: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "wrong type": st.one_of(
        st.integers(),
        st.booleans(),
        st.text(max_size=10),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    ),
    "huge string": st.tuples(
        st.integers(min_value=20_000, max_value=60_000), st.sampled_from(["x", "Ж𝄞é-"])
    ).map(lambda size_and_text: (size_and_text[1] * size_and_text[0])[: size_and_text[0]]),
    "unicode": UNICODE,
    "nan or infinity": st.sampled_from([math.nan, math.inf, -math.inf]),
    "deep nesting": st.integers(min_value=5, max_value=40).map(nested),
}
MUTATION_KINDS = ("delete", *MUTATIONS)


@st.composite
def mutated(
    draw: st.DrawFn,
    record: dict[str, Any],
    fields: tuple[str, ...],
    kinds: tuple[str, ...],
    excluded: frozenset[tuple[str, str]] = frozenset(),
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """``record`` with 0 to 3 of ``fields`` (top level, or ``lines.0.<name>``) mutated, never
    with a (field, kind) of ``excluded``; the mutated record and what was done."""
    result = {**record}
    lines = result.get("lines")
    if isinstance(lines, list) and lines and isinstance(lines[0], dict):
        result["lines"] = [dict(lines[0]), *lines[1:]]
    done: list[tuple[str, str]] = []
    if not kinds:
        return result, done
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        field = draw(st.sampled_from(fields))
        kind = draw(st.sampled_from(kinds))
        if (field, kind) in excluded:
            continue
        target, key = result, field
        if field.startswith("lines.0."):
            if not (isinstance(result.get("lines"), list) and result["lines"]):
                continue
            if not isinstance(result["lines"][0], dict):
                continue
            target, key = result["lines"][0], field.removeprefix("lines.0.")
        if kind == "delete":
            target.pop(key, None)
        else:
            target[key] = draw(MUTATIONS[kind])
        done.append((field, kind))
    return result, done
