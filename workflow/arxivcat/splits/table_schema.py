"""The columns of an experiment's train/validation/test tables, binary or multi-head.

Kept apart from the code that writes the tables so that the stages reading them (tokenize) depend
on the format only.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

#: Schema metadata key naming a multi-head table's heads (JSON list, the label columns' order).
HEADS_KEY = b"arxivcat.heads"


def experiment_schema(heads: list[str] | None = None) -> pa.Schema:
    """Columns of an experiment's train/validation/test tables.

    ``label`` is an int8 for a binary experiment, a fixed-size list of int8 (one per head, in the
    order of the ``arxivcat.heads`` metadata) for a multi-head one.
    """
    label = pa.int8() if heads is None else pa.list_(pa.int8(), len(heads))
    schema = pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("title", pa.string(), nullable=False),
            pa.field("abstract", pa.string(), nullable=False),
            pa.field("label", label, nullable=False),
            pa.field("primary_category", pa.string()),
            pa.field("year", pa.int16()),
            pa.field("is_weak_negative", pa.bool_(), nullable=False),
        ]
    )
    return schema if heads is None else schema.with_metadata({HEADS_KEY: json.dumps(heads)})


#: The binary experiment's tables.
EXPERIMENT_SCHEMA = experiment_schema()


def table_heads(schema: pa.Schema) -> list[str] | None:
    """The heads of a multi-head table (from its schema), None for a binary one."""
    raw = (schema.metadata or {}).get(HEADS_KEY)
    return json.loads(raw) if raw is not None else None


def label_array(labels: np.ndarray, schema: pa.Schema) -> pa.Array:
    """Labels ``[rows]`` or ``[rows, heads]`` as the schema's ``label`` column."""
    kind = schema.field("label").type
    if isinstance(kind, pa.FixedSizeListType):
        flat = pa.array(np.ascontiguousarray(labels, dtype=np.int8).ravel())
        return pa.FixedSizeListArray.from_arrays(flat, kind.list_size)
    return pa.array(labels.astype(np.int8))


def column_matrix(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A column of equal-length lists as a ``[rows, width]`` array (a plain one as ``[rows]``)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_list(column.type) or isinstance(column.type, pa.FixedSizeListType):
        flat = column.flatten().to_numpy(zero_copy_only=False)
        return flat.reshape(len(column), -1) if len(column) else flat.reshape(0, 0)
    return column.to_numpy(zero_copy_only=False)
