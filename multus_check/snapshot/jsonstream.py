"""Parse a JSON object list (`kubectl get -o json`) item by item, never holding the whole text.

Why it exists: json.loads needs the whole document as one string, so loading a 50 MB cluster
document costs the text plus its objects. Here the text arrives in chunks and each element of the
top-level `items` array is decoded as soon as it is complete, so only the objects and one chunk
are held (issue 10 §13: under 5x the file size), and `metadata.managedFields`, which no check
reads, is dropped from each object at once. Any other value, and any text that is not
valid JSON, gives None: the caller then parses the file the ordinary way, which also produces
the precise error message. Pure: reads only the chunks it is given.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

_DECODER = json.JSONDecoder()
_WS = " \t\n\r"
_TRIM = 1 << 20  # drop the consumed part of the buffer once it is this long
_WINDOW = 4 << 20  # decode the items in about this much text at once
#: where the next element of `items` starts, in what `kubectl get -o json` and `multus-check snapshot` write
#: (a raw newline cannot occur inside a JSON string, so this is always structure, never data)
_BOUNDARY = ",\n        {"


class _Invalid(Exception):
    """Not a JSON object, or not valid JSON: the caller falls back to the full parse."""


class _Reader:
    def __init__(self, chunks: Iterator[str]) -> None:
        self.chunks = chunks
        self.buf = ""
        self.pos = 0
        self.done = False
        self.batching = True

    def _more(self) -> bool:
        if self.done:
            return False
        chunk = next(self.chunks, None)
        if chunk is None:
            self.done = True
            return False
        if self.pos > _TRIM:
            self.buf, self.pos = self.buf[self.pos:], 0
        self.buf += chunk
        return True

    def peek(self) -> str:
        """The next non-blank character ('' at the end of the text)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.buf) or not self._more():
                return self.buf[self.pos:self.pos + 1]

    def expect(self, chars: str) -> str:
        found = self.peek()
        if not found or found not in chars:
            raise _Invalid
        self.pos += 1
        return found

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                if self._more():
                    continue
                raise _Invalid from None
            if end == len(self.buf) and self._more():
                continue  # a number cut by the chunk boundary would decode short
            self.pos = end
            return value


    def batch(self) -> list[Any] | None:
        """Many elements at once, up to the last element boundary in the next window of text.

        One json.loads over many elements shares the key strings among them (the decoder's memo
        lives for one call), which a call per element would not: that is a third of the memory.
        Where the boundary is not where this layout puts it, the slice is not valid JSON (an
        element would be left open), and elements are decoded one by one from then on.
        """
        while self.batching and len(self.buf) - self.pos < _WINDOW and self._more():
            pass
        end = self.buf.rfind(_BOUNDARY, self.pos) if self.batching else -1
        if end <= self.pos:
            return None
        try:
            values: list[Any] = json.loads("[" + self.buf[self.pos:end] + "]")
        except json.JSONDecodeError:
            self.batching = False
            return None
        self.pos = end + 1  # past the comma: the next element follows
        return values


def load_object_list(chunks: Iterator[str]) -> list[Any] | None:
    """[the document] when the text is one JSON object, its `items` decoded element by element; else None."""
    reader = _Reader(chunks)
    try:
        if reader.peek() != "{":
            return None
        doc = _object(reader)
        if reader.peek():
            return None  # trailing text: not one JSON document
    except (_Invalid, RecursionError):
        return None
    return [doc]


def _object(reader: _Reader) -> dict[str, Any]:
    reader.expect("{")
    doc: dict[str, Any] = {}
    if reader.peek() == "}":
        reader.pos += 1
        return doc
    while True:
        key = reader.value()
        if not isinstance(key, str):
            raise _Invalid
        reader.expect(":")
        doc[key] = _items(reader) if key == "items" and reader.peek() == "[" else reader.value()
        if reader.expect(",}") == "}":
            return doc


def _items(reader: _Reader) -> list[Any]:
    reader.expect("[")
    items: list[Any] = []
    if reader.peek() == "]":
        reader.pos += 1
        return items
    while True:
        batch = reader.batch()
        if batch is not None:
            items += map(_pruned, batch)
            continue
        items.append(_pruned(reader.value()))
        if reader.expect(",]") == "]":
            return items


def _pruned(item: Any) -> Any:
    """The item without `metadata.managedFields`: no check reads them, and in `kubectl get -o json`
    output they are often half of every object (multus-check's own collector never keeps them)."""
    meta = item.get("metadata") if isinstance(item, dict) else None
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    return item
