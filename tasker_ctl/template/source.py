"""Reading YAML safely while remembering where every element came from.

PyYAML composes the document into a node graph (safe tags only, C parser when available); this
module turns that graph into plain Python values and records the line of every key and value,
so that findings can say ``file:line``. Nothing is expanded before it is measured: a document
whose aliases would expand to more than :data:`MAX_EXPANDED_NODES` nodes, a file larger than
:data:`MAX_FILE_BYTES`, and nesting deeper than :data:`MAX_DEPTH` are refused up front.

Most templates are plain block YAML: no anchors, aliases, merge keys or explicit tags. Those are
read straight from the C parser's event stream, without composing nodes, which is several times
faster on a large template; anything else (and any document the fast reader would refuse) is
read through the node graph, so results and error messages are the same either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from tasker_ctl.template.files import MAX_TEMPLATE_BYTES
from tasker_ctl.template.json_schema import JsonPath

MAX_FILE_BYTES = MAX_TEMPLATE_BYTES
MAX_EXPANDED_NODES = 500_000
ALIAS_EXPANSION_FACTOR = 10
MAX_DEPTH = 200


_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
_STR_TAG = "tag:yaml.org,2002:str"
# Scalars that are JSON data (binary, Python objects and other tags are refused).
_PLAIN_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{kind}" for kind in ("str", "int", "float", "bool", "null", "timestamp")
)
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SourceError(Exception):
    """The file cannot be read as one YAML document; ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class SourceDocument:
    """A YAML document as plain values plus the line of each element, by JSON path."""

    path: Path
    data: Any
    value_lines: dict[JsonPath, int] = field(default_factory=dict)
    key_lines: dict[JsonPath, int] = field(default_factory=dict)

    def line_of(self, path: JsonPath) -> int | None:
        """Line of the element at ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.value_lines.get(path[:end])
            if line is not None:
                return line
        return None

    def key_line_of(self, path: JsonPath) -> int | None:
        """Line of the key that holds ``path`` (falls back to :meth:`line_of`)."""
        return self.key_lines.get(path) or self.line_of(path)


def read_source(path: Path) -> SourceDocument:
    """Read ``path`` as a single YAML document; raise :class:`SourceError` when it cannot be."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SourceError(
                f"file is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit for a template"
            )
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"file is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}") from exc
    return parse_source(text, path)


def parse_source(text: str, path: Path) -> SourceDocument:
    """Parse YAML ``text`` (already read from ``path``) into a :class:`SourceDocument`."""
    document = _EventReader(path).read(text)
    return document if document is not None else _read_nodes(text, path)


def _read_nodes(text: str, path: Path) -> SourceDocument:
    """Compose ``text`` into nodes and build from them: every YAML feature, every refusal."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        if "another document" in problem:
            problem = "the file holds more than one document; a template is a single document"
        raise SourceError(f"invalid YAML: {problem}", line) from exc
    except yaml.YAMLError as exc:
        raise SourceError(f"invalid YAML: {exc}") from exc
    if root is None:
        raise SourceError("file is empty: a template needs at least name, namespace_name, version")
    # Aliases need anchors: a file without '&' cannot expand beyond itself.
    if "&" in text:
        _refuse_alias_bombs(root)
    document = SourceDocument(path=path, data=None)
    document.data = _Builder(document).build(root, (), 0)
    return document


def _refuse_alias_bombs(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand it far beyond its own size."""
    expanded, distinct = _expanded_size(root)
    limit = max(MAX_EXPANDED_NODES, ALIAS_EXPANSION_FACTOR * distinct)
    if expanded > limit:
        raise SourceError(
            f"YAML aliases expand to more than {limit:,} nodes "
            "(an alias bomb?); refusing to load it",
            root.start_mark.line + 1,
        )


def _expanded_size(root: yaml.Node) -> tuple[int, int]:
    """Nodes with every alias expanded (counted, not built), and distinct nodes."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if depth > MAX_DEPTH:
            raise SourceError(f"nesting deeper than {MAX_DEPTH} levels", node.start_mark.line + 1)
        if id(node) in in_progress:
            raise SourceError("a YAML alias refers to itself", node.start_mark.line + 1)
        in_progress.add(id(node))
        total = 1
        for child in _children(node):
            total += size(child, depth + 1)
            if total > MAX_EXPANDED_NODES * ALIAS_EXPANSION_FACTOR:
                break
        in_progress.discard(id(node))
        sizes[id(node)] = total
        return total

    return size(root, 0), len(sizes)


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        yield from node.value
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value


class _Builder:
    """Turns composed nodes into plain values, recording lines as it goes."""

    def __init__(self, document: SourceDocument):
        self._document = document
        self._scalars = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: JsonPath, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise SourceError(f"nesting deeper than {MAX_DEPTH} levels", node.start_mark.line + 1)
        self._document.value_lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _PLAIN_TAGS:
            raise SourceError(
                f"unsupported YAML tag '{node.tag}': templates hold plain data only",
                node.start_mark.line + 1,
            )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: JsonPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.update(self._merge_sources(value_node, path, depth))
                continue
            key = self._key(key_node)
            line = key_node.start_mark.line + 1
            if key in first_seen:
                raise SourceError(
                    f"duplicate key '{key}' (first given at line {first_seen[key]})", line
                )
            first_seen[key] = line
            self._document.key_lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return {**merged, **result} if merged else result

    def _merge_sources(self, node: yaml.Node, path: JsonPath, depth: int) -> dict[str, Any]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in reversed(sources):
            if not isinstance(source, yaml.MappingNode):
                raise SourceError("'<<' merges only mappings", source.start_mark.line + 1)
            merged.update(self._mapping(source, path, depth + 1))
        return merged

    def _key(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise SourceError("mapping keys must be plain text", node.start_mark.line + 1)
        return str(node.value)

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag == _STR_TAG:
            return node.value
        construct = self._scalars.yaml_constructors.get(node.tag)
        if construct is None or node.tag not in _PLAIN_SCALAR_TAGS:
            raise SourceError(
                f"unsupported YAML tag '{node.tag}': templates hold plain data only",
                node.start_mark.line + 1,
            )
        try:
            value = construct(self._scalars, node)
        except (yaml.YAMLError, ValueError) as exc:
            message = f"invalid YAML value: {str(exc).splitlines()[0]}"
            raise SourceError(message, node.start_mark.line + 1) from exc
        # Keep values JSON-compatible: timestamps become ISO 8601 text.
        return value.isoformat() if isinstance(value, date) else value


class _NeedsNodes(Exception):
    """The event reader met something only the node-based reader handles (or refuses)."""


class _EventReader:
    """Builds a :class:`SourceDocument` from parser events, for plain documents only.

    It gives up (``read`` returns None) at the first anchor, alias, explicit tag, merge key,
    non-text key, duplicate key, over-deep nesting, unreadable value or YAML error, and when the
    stream is not exactly one document: the node-based reader then produces the same result or
    the same refusal. Scalar tags and values are memoised per text, as resolving and constructing
    them are pure functions of it and templates repeat the same few values many times.
    """

    def __init__(self, path: Path):
        self._document = SourceDocument(path=path, data=None)
        self._value_lines = self._document.value_lines
        self._key_lines = self._document.key_lines
        self._scalars = yaml.SafeLoader("")
        self._resolve: Any = self._scalars.resolve
        self._values: dict[str, Any] = {}
        self._next: Any = None

    def read(self, text: str) -> SourceDocument | None:
        parser = _Loader(text)
        self._next = parser.get_event
        try:
            if not isinstance(self._next(), yaml.StreamStartEvent):
                return None
            if not isinstance(self._next(), yaml.DocumentStartEvent):
                return None  # an empty stream
            self._document.data = self._value(self._next(), (), 0)
            if not isinstance(self._next(), yaml.DocumentEndEvent):
                return None
            if not isinstance(self._next(), yaml.StreamEndEvent):
                return None  # another document follows
        except (_NeedsNodes, yaml.YAMLError):
            return None
        finally:
            parser.dispose()
        return self._document

    def _value(self, event: Any, path: JsonPath, depth: int) -> Any:
        kind = type(event)
        if depth > MAX_DEPTH or kind is yaml.AliasEvent:
            raise _NeedsNodes
        if event.tag is not None or event.anchor is not None:
            raise _NeedsNodes
        self._value_lines.setdefault(path, event.start_mark.line + 1)
        if kind is yaml.ScalarEvent:
            return self._scalar(event)
        if kind is yaml.MappingStartEvent:
            return self._mapping(path, depth)
        if kind is yaml.SequenceStartEvent:
            items: list[Any] = []
            item = self._next()
            while type(item) is not yaml.SequenceEndEvent:
                items.append(self._value(item, (*path, len(items)), depth + 1))
                item = self._next()
            return items
        raise _NeedsNodes

    def _mapping(self, path: JsonPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        key_event: Any = self._next()
        while type(key_event) is not yaml.MappingEndEvent:
            key_line = key_event.start_mark.line + 1
            if type(key_event) is not yaml.ScalarEvent:
                raise _NeedsNodes
            key = key_event.value
            if key_event.tag is not None or key_event.anchor is not None or key in result:
                raise _NeedsNodes
            if key == "<<" and key_event.implicit[0]:  # the only text that resolves to merge
                raise _NeedsNodes
            key_path = (*path, key)
            self._key_lines[key_path] = key_line
            result[key] = self._value(self._next(), key_path, depth + 1)
            key_event = self._next()
        return result

    def _scalar(self, event: Any) -> Any:
        text = event.value
        if not event.implicit[0]:
            return text  # quoted or block text: always a string
        try:
            return self._values[text]
        except KeyError:
            pass
        tag = self._resolve(yaml.ScalarNode, text, (True, False))
        if tag == _STR_TAG:
            value: Any = text
        else:
            construct = self._scalars.yaml_constructors.get(tag)
            if construct is None or tag not in _PLAIN_SCALAR_TAGS:
                raise _NeedsNodes
            try:  # a failure is reported, with its line, by the node reader
                node = yaml.ScalarNode(tag, text)
                value = construct(self._scalars, node)
            except (yaml.YAMLError, ValueError) as exc:
                raise _NeedsNodes from exc
            value = value.isoformat() if isinstance(value, date) else value
        self._values[text] = value
        return value
