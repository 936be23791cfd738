"""Parse a JSON object list (`kubectl get -o json`) item by item, never holding the whole text.

Why it exists: json.loads needs the whole document as one string, so loading a 50 MB cluster
document costs the text plus its objects. Here the text arrives in chunks and each element of the
top-level `items` array is decoded as soon as it is complete, so only the objects and one chunk
are held (issue 10 §13: under 5x the file size), and `metadata.managedFields`, which no check
reads, is dropped from each object at once. Any other value, and any text that is not
valid JSON, gives None: the caller then parses the file the ordinary way, which also produces
the precise error message. Any layout of the text is fast: the elements are decoded in batches
cut at the separator the text itself uses between them, learned from the first two (audit 10
item 15: only kubectl's layout was fast before). Pure: reads only the chunks it is given.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

_DECODER = json.JSONDecoder()
_WS = " \t\n\r"
_TRIM = 1 << 20  # drop the consumed part of the buffer once it is this long
_WINDOW = 4 << 20  # decode the items in about this much text at once


class _Invalid(Exception):
    """Not a JSON object, or not valid JSON: the caller falls back to the full parse."""


class _Reader:
    def __init__(self, chunks: Iterator[str]) -> None:
        self.chunks = chunks
        self.buf = ""
        self.pos = 0
        self.base = 0  # characters of the text dropped from the front of buf
        self.done = False
        #: the text between two elements of `items` (",\n        {" as kubectl and multus-check write it,
        #: ",\n    {" from `jq .`, ",{" from `jq -c`), learned from the first two; None until then
        self.boundary: str | None = None
        #: no batch is tried before this point of the text (a window that held none, or not where it seemed)
        self.resume_at = 0

    def _more(self) -> bool:
        if self.done:
            return False
        chunk = next(self.chunks, None)
        if chunk is None:
            self.done = True
            return False
        if self.pos > _TRIM:
            self.base += self.pos
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

    def learn_boundary(self, comma: int) -> None:
        """After the first element (`comma`: where its comma is in the whole text; the reader at the next
        element): the text from that comma up to the next element's `{`."""
        text = self.buf[comma - self.base:self.pos + 1] if comma >= self.base else ""
        if text.endswith("{") and not text[1:-1].strip(_WS):
            self.boundary = text

    def batch(self) -> list[Any] | None:
        """Many elements at once, up to the last element boundary in the next window of text.

        One json.loads over many elements shares the key strings among them (the decoder's memo
        lives for one call), which a call per element would not: that is a third of the memory.
        A boundary that is not one leaves the slice invalid JSON (an element would be left open);
        then, and when a window holds no boundary, the elements of that window are decoded one by
        one, so no text is searched twice for nothing.
        """
        if self.boundary is None or self.base + self.pos < self.resume_at:
            return None
        while len(self.buf) - self.pos < _WINDOW and self._more():
            pass
        end = self._last_boundary(self.boundary)
        if end <= self.pos:
            self.resume_at = self.base + len(self.buf)
            return None
        try:
            values: list[Any] = json.loads("[" + self.buf[self.pos:end] + "]")
        except json.JSONDecodeError:
            self.resume_at = self.base + end
            return None
        self.pos = end + 1  # past the comma: the next element follows
        return values

    def _last_boundary(self, sep: str) -> int:
        """Where the last element in the window ends. With a newline in the separator that is its last
        occurrence: a raw newline cannot occur inside a JSON string, and indentation grows with
        depth, so that text marks the level of `items` and no other. Without one (minified JSON)
        the same text also separates objects deeper down; the last occurrence after which the
        brackets balance is taken (a bracket inside a string can fool that; json.loads then refuses
        the slice, and nothing is lost)."""
        buf, start = self.buf, self.pos
        end = buf.rfind(sep, start)
        if "\n" in sep or end <= start:
            return end
        curly = buf.count("{", start, end) - buf.count("}", start, end)
        square = buf.count("[", start, end) - buf.count("]", start, end)
        while curly or square:
            earlier = buf.rfind(sep, start, end)
            if earlier <= start:
                return -1
            curly -= buf.count("{", earlier, end) - buf.count("}", earlier, end)
            square -= buf.count("[", earlier, end) - buf.count("]", earlier, end)
            end = earlier
        return end


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
        comma = reader.base + reader.pos if reader.peek() == "," else -1
        if reader.expect(",]") == "]":
            return items
        if len(items) == 1 and comma >= 0:
            reader.peek()
            reader.learn_boundary(comma)


def _pruned(item: Any) -> Any:
    """The item without `metadata.managedFields`: no check reads them, and in `kubectl get -o json`
    output they are often half of every object (multus-check's own collector never keeps them)."""
    meta = item.get("metadata") if isinstance(item, dict) else None
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    return item
