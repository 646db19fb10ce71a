"""Lay out a workflow DAG as box-drawing text, top to bottom, for terminals.

Pure data in, characters out: no rich, no typer. ``tasker_ctl.ui.dag`` colours the result by
step state using the box positions returned here, so nothing ever re-parses the text.

How the picture is built (a small, deterministic Sugiyama-style layout):

1. **Layers**: each step sits one layer below its deepest dependency (longest path from the
   roots), so every edge points downwards and steps in one layer never depend on each other.
2. **Order** within a layer: template order for the roots, then the barycentre of the parents'
   positions, template order breaking ties.
3. **Collapse**: a layer wider than ``max_width`` keeps its first boxes and gathers the rest into
   one summary box ("… 196 more (parallel)"); edges to and from hidden steps attach to it.
4. **Long edges** (skipping layers) are drawn as a vertical line through the layers in between;
   if those lines would not fit, the target box lists them instead ("↳ also after: x").
5. **Placement**: a few sweeps centre each box over its children and under its parents while
   keeping the order and the gaps (weighted isotonic regression, linear per layer).
6. **Routing** between two layers: parents with exactly the same children share one horizontal
   line (a fan-in converges, a fan-out branches); each such group arrives at a child through its
   own arrow, so a line never suggests an edge that does not exist. Where a vertical line
   crosses an unrelated horizontal one, the vertical is drawn through and the horizontal breaks.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["DagLayout", "PlacedBox", "layout_dag"]

MIN_WIDTH = 16
"""The narrowest ``max_width`` accepted: room for one box holding a summary."""

_BOX_GAP = 3  # columns between two boxes, as in the diagrams of the Tasker docs
_LINE_GAP = 2  # columns between a pass-through line and its neighbour
_MIN_CONTENT = 3  # so that a box has room for a centred connector and two arrows
_BOX_WEIGHT = 16  # boxes pull harder than pass-through lines when positions are averaged
_LINE_WEIGHT = 1
_SWEEPS = 4
_MAX_NOTE_NAMES = 3

_UP, _DOWN, _LEFT, _RIGHT = 1, 2, 4, 8
_GLYPHS = {
    _UP: "│",
    _DOWN: "│",
    _UP | _DOWN: "│",
    _LEFT: "─",
    _RIGHT: "─",
    _LEFT | _RIGHT: "─",
    _DOWN | _RIGHT: "┌",
    _DOWN | _LEFT: "┐",
    _UP | _RIGHT: "└",
    _UP | _LEFT: "┘",
    _UP | _DOWN | _RIGHT: "├",
    _UP | _DOWN | _LEFT: "┤",
    _DOWN | _LEFT | _RIGHT: "┬",
    _UP | _LEFT | _RIGHT: "┴",
    _UP | _DOWN | _LEFT | _RIGHT: "┼",
}
_ARROW = "▼"


@dataclass(frozen=True, slots=True)
class PlacedBox:
    """Where one box is drawn: rows ``top..top+height-1``, columns ``left..left+width-1``.

    ``nodes`` holds the one step the box shows, or, for a summary box, every step it stands for.
    """

    nodes: tuple[str, ...]
    top: int
    left: int
    height: int
    width: int
    summary: bool = False


@dataclass(frozen=True, slots=True)
class DagLayout:
    """The drawn graph: text lines (trailing spaces removed) and the boxes placed on them."""

    lines: tuple[str, ...]
    boxes: tuple[PlacedBox, ...]

    @property
    def width(self) -> int:
        """Columns used by the widest line."""
        return max((len(line) for line in self.lines), default=0)

    @property
    def text(self) -> str:
        """The lines joined with newlines, without a trailing newline."""
        return "\n".join(self.lines)


@dataclass(slots=True)
class _Element:
    """A box (one step or a summary) or a pass-through line segment in one layer."""

    layer: int
    nodes: tuple[str, ...]
    content: list[str]
    summary: bool = False
    width: int = 1
    sort_key: tuple[float, int, int] = (0.0, 0, 0)
    parents: list[int] = field(default_factory=list)
    children: list[int] = field(default_factory=list)
    x: int = 0

    @property
    def is_line(self) -> bool:
        return not self.nodes

    @property
    def weight(self) -> int:
        return _LINE_WEIGHT if self.is_line else _BOX_WEIGHT

    @property
    def height(self) -> int:
        return 0 if self.is_line else len(self.content) + 2

    @property
    def centre(self) -> int:
        return self.x + self.width // 2


@dataclass(slots=True)
class _Net:
    """Parents with identical children in one gap: drawn as one horizontal line."""

    sources: list[int]
    targets: list[int]
    arrivals: dict[int, int] = field(default_factory=dict)  # target element -> column
    low: int = 0
    high: int = 0
    row: int = -1  # track row inside the gap; -1 when the net is a straight vertical line


def layout_dag(
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str]],
    *,
    labels: Mapping[str, str] | None = None,
    max_width: int = 100,
    summarize: Callable[[Sequence[str]], str] | None = None,
) -> DagLayout:
    """Draw the DAG ``nodes``/``edges`` (parent, child) top to bottom within ``max_width`` columns.

    ``labels`` adds a short second line to a step's box (e.g. ``"✓ complete"``); ``summarize``
    gives that line for a summary box from the steps it hides. Output depends only on the
    arguments. Raises ValueError for a duplicate step, an edge naming an unknown step, or a
    cycle: callers validate templates first.
    """
    if max_width < MIN_WIDTH:
        raise ValueError(f"max_width must be at least {MIN_WIDTH}, got {max_width}")
    position = _index_nodes(nodes)
    if not position:
        return DagLayout(lines=(), boxes=())
    parents = _parents_of(nodes, edges, position)
    layer_of = _assign_layers(nodes, parents, position)
    layers = _order_layers(nodes, parents, layer_of, position)
    labels = labels or {}

    def build(notes_mode: bool) -> list[_Element] | None:
        return _build_elements(layers, parents, layer_of, labels, summarize, max_width, notes_mode)

    with_lines = build(False)
    drawn = _draw(with_lines, max_width, strict=True) if with_lines is not None else None
    if drawn is None:  # long-edge lines would not fit or not route cleanly: use notes
        with_notes = build(True)
        assert with_notes is not None, "notes mode always builds"
        drawn = _draw(with_notes, max_width, strict=False)
        assert drawn is not None, "a non-strict drawing always succeeds"
    return drawn


def _draw(elements: list[_Element], max_width: int, *, strict: bool) -> DagLayout | None:
    """Place, route and render; None when ``strict`` and some lines could not be kept apart."""
    by_layer = _elements_by_layer(elements)
    _place(elements, by_layer, max_width)
    gaps = [_route(elements, upper, lower) for upper, lower in itertools.pairwise(by_layer)]
    if strict and not all(gap.clean for gap in gaps):
        return None
    return _render(elements, by_layer, gaps)


# --- input checks and layering ------------------------------------------------------------


def _index_nodes(nodes: Sequence[str]) -> dict[str, int]:
    position: dict[str, int] = {}
    for index, name in enumerate(nodes):
        if name in position:
            raise ValueError(f"step {name!r} is listed twice")
        position[name] = index
    return position


def _parents_of(
    nodes: Sequence[str], edges: Sequence[tuple[str, str]], position: Mapping[str, int]
) -> dict[str, list[str]]:
    """Each step's distinct parents, in template order."""
    found: dict[str, set[str]] = {name: set() for name in nodes}
    for parent, child in edges:
        for name in (parent, child):
            if name not in position:
                raise ValueError(f"edge {parent!r} -> {child!r} names unknown step {name!r}")
        found[child].add(parent)
    return {name: sorted(found[name], key=position.__getitem__) for name in nodes}


def _assign_layers(
    nodes: Sequence[str], parents: Mapping[str, list[str]], position: Mapping[str, int]
) -> dict[str, int]:
    """Longest path from the roots (Kahn's algorithm); ValueError on a cycle."""
    children: dict[str, list[str]] = defaultdict(list)
    waiting = {name: len(parents[name]) for name in nodes}
    for name in nodes:
        for parent in parents[name]:
            children[parent].append(name)
    layer_of = dict.fromkeys(nodes, 0)
    ready = [name for name in nodes if waiting[name] == 0]
    done = 0
    while ready:
        name = ready.pop()
        done += 1
        for child in children[name]:
            layer_of[child] = max(layer_of[child], layer_of[name] + 1)
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    if done < len(nodes):
        stuck = sorted((n for n in nodes if waiting[n] > 0), key=position.__getitem__)
        raise ValueError(f"the steps form a cycle through: {', '.join(stuck)}")
    return layer_of


def _order_layers(
    nodes: Sequence[str],
    parents: Mapping[str, list[str]],
    layer_of: Mapping[str, int],
    position: Mapping[str, int],
) -> list[list[str]]:
    """Template order in the first layer; below, the barycentre of the parents' positions."""
    depth = max(layer_of.values(), default=-1) + 1
    layers: list[list[str]] = [[] for _ in range(depth)]
    for name in nodes:
        layers[layer_of[name]].append(name)
    rank: dict[str, float] = {}
    for layer in layers:
        if layer is not layers[0]:
            layer.sort(
                key=lambda n: (sum(rank[p] for p in parents[n]) / len(parents[n]), position[n])
            )
        for index, name in enumerate(layer):
            rank[name] = (index + 0.5) / len(layer)
    return layers


# --- elements: boxes, summaries and pass-through lines --------------------------------------


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _box_width(content: Sequence[str]) -> int:
    return max(_MIN_CONTENT, *(len(line) for line in content)) + 4


def _note_lines(sources: Sequence[str]) -> list[str]:
    """``↳ also after: x`` for edges that skip layers when no line can be drawn for them."""
    if not sources:
        return []
    if len(sources) == 1:
        return [f"↳ also after: {sources[0]}"]
    shown = [*sources[:_MAX_NOTE_NAMES]]
    if len(sources) > _MAX_NOTE_NAMES:
        shown.append(f"+{len(sources) - _MAX_NOTE_NAMES} more")
    return ["↳ also after:", *shown]


def _build_elements(
    layers: Sequence[Sequence[str]],
    parents: Mapping[str, list[str]],
    layer_of: Mapping[str, int],
    labels: Mapping[str, str],
    summarize: Callable[[Sequence[str]], str] | None,
    max_width: int,
    notes_mode: bool,
) -> list[_Element] | None:
    """Boxes per layer (wide layers collapsed), linked; None if long-edge lines would not fit."""
    limit = max_width - 4

    def skipped(name: str) -> list[str]:
        return [p for p in parents[name] if layer_of[p] < layer_of[name] - 1]

    def content_of(name: str) -> list[str]:
        lines = [name] + ([labels[name]] if labels.get(name) else [])
        if notes_mode:
            lines += _note_lines(skipped(name))
        return [_fit(line, limit) for line in lines]

    def summary_content(hidden: Sequence[str], shown: int) -> list[str]:
        lines = [f"… {len(hidden)} more (parallel)" if shown else f"{len(hidden)} parallel steps"]
        if summarize is not None:
            lines.append(summarize(hidden))
        if notes_mode and any(skipped(name) for name in hidden):
            lines.append("↳ some also after earlier steps")
        return [_fit(line, limit) for line in lines]

    elements: list[_Element] = []
    element_of: dict[str, int] = {}
    for layer_index, layer in enumerate(layers):
        groups = _collapse(layer, content_of, summary_content, max_width)
        for rank, (members, content, is_summary) in enumerate(groups):
            element = _Element(
                layer=layer_index,
                nodes=members,
                content=content,
                summary=is_summary,
                width=_box_width(content),
                sort_key=((rank + 0.5) / len(groups), 0, 0),
            )
            for name in members:
                element_of[name] = len(elements)
            elements.append(element)

    _link(elements, parents, element_of, notes_mode)
    _widen_for_arrivals(elements)
    by_layer = _elements_by_layer(elements)
    if not notes_mode and any(_packed_width(elements, row) > max_width for row in by_layer):
        return None
    return elements


def _collapse(
    layer: Sequence[str],
    content_of: Callable[[str], list[str]],
    summary_content: Callable[[Sequence[str], int], list[str]],
    max_width: int,
) -> list[tuple[tuple[str, ...], list[str], bool]]:
    """The layer's boxes, or its first boxes plus one summary box when it is too wide."""
    contents = [content_of(name) for name in layer]
    widths = [_box_width(content) for content in contents]
    if sum(widths) + _BOX_GAP * (len(widths) - 1) <= max_width:
        return [((name,), content, False) for name, content in zip(layer, contents, strict=True)]
    shown = 0
    used = 0  # width of the boxes shown so far, each followed by a gap
    while shown < len(layer) and used + widths[shown] + _BOX_GAP < max_width:
        used += widths[shown] + _BOX_GAP
        shown += 1
    while True:
        summary = summary_content(layer[shown:], shown)
        if shown == 0 or used + _box_width(summary) <= max_width:
            break
        shown -= 1
        used -= widths[shown] + _BOX_GAP
    groups: list[tuple[tuple[str, ...], list[str], bool]] = [
        ((name,), contents[i], False) for i, name in enumerate(layer[:shown])
    ]
    groups.append((tuple(layer[shown:]), summary, True))
    return groups


def _link(
    elements: list[_Element],
    parents: Mapping[str, list[str]],
    element_of: Mapping[str, int],
    notes_mode: bool,
) -> None:
    """Connect elements of adjacent layers; long edges get a chain of pass-through lines."""
    direct: set[tuple[int, int]] = set()
    long_targets: dict[int, set[int]] = defaultdict(set)
    for child in element_of:
        target = element_of[child]
        for parent in parents[child]:
            source = element_of[parent]
            if elements[target].layer == elements[source].layer + 1:
                direct.add((source, target))
            elif not notes_mode:
                long_targets[source].add(target)
    for source, targets in sorted(long_targets.items()):
        previous = source
        targets_below: dict[int, list[int]] = defaultdict(list)
        for target in targets:
            targets_below[elements[target].layer - 1].append(target)
        for layer in range(elements[source].layer + 1, max(targets_below) + 1):
            line = _Element(
                layer=layer,
                nodes=(),
                content=[],
                sort_key=(elements[previous].sort_key[0], 1, source),
            )
            elements.append(line)
            direct.add((previous, len(elements) - 1))
            previous = len(elements) - 1
            direct.update((previous, target) for target in targets_below[layer])
    for source, target in sorted(direct):
        elements[source].children.append(target)
        elements[target].parents.append(source)


def _elements_by_layer(elements: Sequence[_Element]) -> list[list[int]]:
    depth = max((e.layer for e in elements), default=-1) + 1
    by_layer: list[list[int]] = [[] for _ in range(depth)]
    for index, element in enumerate(elements):
        by_layer[element.layer].append(index)
    for row in by_layer:
        row.sort(key=lambda i: elements[i].sort_key)
    return by_layer


def _group_nets(elements: Sequence[_Element], sources: Sequence[int]) -> list[_Net]:
    """Parents in one layer grouped by their exact set of children, in left-to-right order."""
    nets: dict[tuple[int, ...], _Net] = {}
    for source in sources:
        children = tuple(elements[source].children)
        if children:
            nets.setdefault(children, _Net(sources=[], targets=list(children)))
            nets[children].sources.append(source)
    return list(nets.values())


def _widen_for_arrivals(elements: list[_Element]) -> None:
    """A box reached by several separate lines needs room for one arrow per line."""
    arrivals: dict[int, int] = defaultdict(int)
    for row in _elements_by_layer(elements):
        for net in _group_nets(elements, row):
            for target in net.targets:
                arrivals[target] += 1
    for target, count in arrivals.items():
        if not elements[target].is_line:
            elements[target].width = max(elements[target].width, 2 * count + 1)


def _gap(left: _Element, right: _Element) -> int:
    return _LINE_GAP if left.is_line or right.is_line else _BOX_GAP


def _packed_width(elements: Sequence[_Element], row: Sequence[int]) -> int:
    total = sum(elements[i].width for i in row)
    return total + sum(_gap(elements[a], elements[b]) for a, b in itertools.pairwise(row))


# --- horizontal placement -----------------------------------------------------------------


def _place(elements: list[_Element], by_layer: Sequence[Sequence[int]], max_width: int) -> None:
    """Centre boxes between parents and children, then fall back to packing if too wide."""
    for row in by_layer:
        _pack(elements, row, start=0)
    for _ in range(_SWEEPS):
        for row in by_layer[1:]:
            _align(elements, row, toward_parents=True)
        for row in reversed(by_layer[:-1]):
            _align(elements, row, toward_parents=False)
    for row in by_layer[1:]:
        _align(elements, row, toward_parents=True)
    leftmost = min(e.x for e in elements)
    for element in elements:
        element.x -= leftmost
    if max(e.x + e.width for e in elements) > max_width:
        widest = max(_packed_width(elements, row) for row in by_layer)
        for row in by_layer:
            _pack(elements, row, start=(widest - _packed_width(elements, row)) // 2)


def _pack(elements: list[_Element], row: Sequence[int], start: int) -> None:
    x = start
    for previous, index in zip([None, *row], row, strict=False):
        if previous is not None:
            x += elements[previous].width + _gap(elements[previous], elements[index])
        elements[index].x = x


def _align(elements: list[_Element], row: Sequence[int], *, toward_parents: bool) -> None:
    """Move each element of ``row`` as close as the order allows to its neighbours' centre.

    Weighted isotonic regression (pool adjacent violators) on positions relative to the packed
    layout: the result keeps order and gaps and minimises the weighted squared displacement.
    """
    blocks: list[list[int]] = []  # [weighted sum, total weight, count]
    offsets: list[int] = []
    offset = 0
    for position, index in enumerate(row):
        element = elements[index]
        if position:
            before = elements[row[position - 1]]
            offset += before.width + _gap(before, element)
        offsets.append(offset)
        neighbours = element.parents if toward_parents else element.children
        if neighbours:
            total = sum(elements[n].weight for n in neighbours)
            pull = sum(elements[n].weight * elements[n].centre for n in neighbours)
            centre = (2 * pull + total) // (2 * total)
        else:
            centre = element.centre
        wanted = centre - element.width // 2 - offset
        blocks.append([element.weight * wanted, element.weight, 1])
        while len(blocks) > 1 and blocks[-2][0] * blocks[-1][1] > blocks[-1][0] * blocks[-2][1]:
            last = blocks.pop()
            blocks[-1] = [blocks[-1][0] + last[0], blocks[-1][1] + last[1], blocks[-1][2] + last[2]]
    position = 0
    for weighted, weight, count in blocks:
        for _ in range(count):
            elements[row[position]].x = (2 * weighted + weight) // (2 * weight) + offsets[position]
            position += 1


# --- routing between two layers -----------------------------------------------------------


@dataclass(slots=True)
class _Gap:
    nets: list[_Net]
    rows: int
    clean: bool  # False when two nets' vertical lines had to share a column


def _route(elements: Sequence[_Element], upper: Sequence[int], lower: Sequence[int]) -> _Gap:
    """Group the edges between two layers into nets, pick arrival columns and track rows."""
    nets = _group_nets(elements, upper)
    departure = {s: elements[s].centre for net in nets for s in net.sources}
    nets_into: dict[int, list[_Net]] = defaultdict(list)
    for net in nets:
        for target in net.targets:
            nets_into[target].append(net)
    taken = set(departure.values())
    for target in lower:
        incoming = sorted(
            nets_into[target], key=lambda n: sum(departure[s] for s in n.sources) / len(n.sources)
        )
        for net, column in _arrival_columns(elements[target], incoming, departure, taken):
            net.arrivals[target] = column
    for net in nets:
        columns = [departure[s] for s in net.sources] + list(net.arrivals.values())
        net.low, net.high = min(columns), max(columns)
    rows, clean = _assign_track_rows(nets, departure)
    return _Gap(nets=nets, rows=rows, clean=clean)


def _arrival_columns(
    target: _Element, incoming: Sequence[_Net], departure: Mapping[int, int], taken: set[int]
) -> list[tuple[_Net, int]]:
    """One column per incoming net on the box's top edge.

    A net with a parent right above the box arrives straight down from it. The others arrive
    near the centre, left to right like their parents, on columns where no parent's line comes
    down (a shared column would merge two nets' lines), with a space between arrows if possible.
    """
    if target.is_line:
        return [(incoming[0], target.x)]
    interior = range(target.x + 1, target.x + target.width - 1)
    chosen: list[tuple[_Net, int]] = []
    bent: list[_Net] = []
    for net in incoming:
        above = [departure[s] for s in net.sources if departure[s] in interior]
        if above:
            chosen.append((net, min(above, key=lambda c: (abs(c - target.centre), c))))
        else:
            bent.append(net)
    used = {column for _, column in chosen}
    candidates = sorted(interior, key=lambda c: (abs(c - target.centre), c))
    picked: list[int] = []
    for allow_adjacent, allow_taken in ((False, False), (True, False), (True, True)):
        for column in candidates:
            if len(picked) == len(bent):
                break
            if column in picked or column in used or (column in taken and not allow_taken):
                continue
            if allow_adjacent or all(abs(column - p) > 1 for p in (*picked, *used)):
                picked.append(column)
    return chosen + list(zip(bent, sorted(picked), strict=True))


def _assign_track_rows(nets: Sequence[_Net], departure: Mapping[int, int]) -> tuple[int, bool]:
    """Give each bent net a row; nets share a row when their spans leave a column between.

    A net whose parent's column is another net's arrival column must lie above it, or the two
    vertical lines would merge. Narrow nets go first, which keeps crossings rare.
    """
    bent = [i for i, net in enumerate(nets) if net.low < net.high]
    rank = {
        i: r
        for r, i in enumerate(sorted(bent, key=lambda i: (nets[i].high - nets[i].low, nets[i].low)))
    }
    net_of_column = {departure[s]: i for i, net in enumerate(nets) for s in net.sources}
    before: dict[int, set[int]] = {i: set() for i in bent}
    for i in bent:
        for column in nets[i].arrivals.values():
            owner = net_of_column.get(column)
            if owner is not None and owner != i and owner in rank:
                before[i].add(owner)
    after: dict[int, list[int]] = defaultdict(list)
    for i, earlier in before.items():
        for j in earlier:
            after[j].append(i)
    waiting = {i: len(before[i]) for i in bent}
    ready = [(rank[i], i) for i in bent if waiting[i] == 0]
    heapq.heapify(ready)
    occupied: list[list[tuple[int, int]]] = []
    placed: set[int] = set()
    clean = True
    while len(placed) < len(bent):
        if not ready:  # contradictory constraints (rare): drop them for the first net left
            clean = False
            first = min((i for i in bent if i not in placed), key=rank.__getitem__)
            heapq.heappush(ready, (rank[first], first))
        _, i = heapq.heappop(ready)
        if i in placed:
            continue
        placed.add(i)
        net = nets[i]
        row = max((nets[j].row + 1 for j in before[i] if j in placed), default=0)
        while row < len(occupied) and any(
            not (net.high < low - 1 or net.low > high + 1) for low, high in occupied[row]
        ):
            row += 1
        if row == len(occupied):
            occupied.append([])
        occupied[row].append((net.low, net.high))
        net.row = row
        for j in after[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, (rank[j], j))
    return len(occupied), clean


# --- drawing ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Canvas:
    bits: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    owner: dict[tuple[int, int], int] = field(default_factory=dict)
    crossings: set[tuple[int, int]] = field(default_factory=set)
    text: dict[tuple[int, int], str] = field(default_factory=dict)

    def horizontal(self, row: int, low: int, high: int, net: int | None) -> None:
        for column in range(low, high + 1):
            self.bits[row, column] |= (_LEFT if column > low else 0) | (
                _RIGHT if column < high else 0
            )
            if net is not None:
                self.owner[row, column] = net

    def vertical(self, column: int, top: int, bottom: int, net: int | None) -> None:
        if top >= bottom:
            return
        self.bits[top, column] |= _DOWN
        self.bits[bottom, column] |= _UP
        for row in range(top + 1, bottom):
            self.bits[row, column] |= _UP | _DOWN
            if self.owner.get((row, column), net) != net:
                self.crossings.add((row, column))

    def box(self, top: int, left: int, element: _Element) -> None:
        right, bottom = left + element.width - 1, top + element.height - 1
        self.horizontal(top, left, right, None)
        self.horizontal(bottom, left, right, None)
        self.vertical(left, top, bottom, None)
        self.vertical(right, top, bottom, None)
        inner = element.width - 4
        for number, line in enumerate(element.content, start=top + 1):
            start = left + 2 + (inner - len(line)) // 2
            for offset, char in enumerate(line):
                self.text[number, start + offset] = char

    def lines(self, height: int, width: int) -> tuple[str, ...]:
        grid = [[" "] * width for _ in range(height)]
        for (row, column), bits in self.bits.items():
            grid[row][column] = "│" if (row, column) in self.crossings else _GLYPHS[bits]
        for (row, column), char in self.text.items():
            grid[row][column] = char
        return tuple("".join(chars).rstrip() for chars in grid)


def _render(
    elements: Sequence[_Element], by_layer: Sequence[Sequence[int]], gaps: Sequence[_Gap]
) -> DagLayout:
    canvas = _Canvas()
    boxes: list[PlacedBox] = []
    start_row: dict[int, int] = {}  # element -> row where its outgoing line starts
    top = 0
    net_id = 0
    for layer, row in enumerate(by_layer):
        height = max(elements[i].height for i in row)
        for index in row:
            element = elements[index]
            if element.is_line:
                start_row[index] = top - 1
                continue
            canvas.box(top, element.x, element)
            start_row[index] = top + element.height - 1
            boxes.append(
                PlacedBox(
                    element.nodes, top, element.x, element.height, element.width, element.summary
                )
            )
        if layer == len(gaps):
            top += height
            break
        gap = gaps[layer]
        drop_row = top + height
        arrow_row = drop_row + 1 + gap.rows
        for number, net in enumerate(gap.nets):
            if net.row >= 0:
                canvas.horizontal(drop_row + 1 + net.row, net.low, net.high, net_id + number)
        for number, net in enumerate(gap.nets):
            net_key = net_id + number
            track = drop_row + 1 + net.row if net.row >= 0 else arrow_row
            for source in net.sources:
                canvas.vertical(elements[source].centre, start_row[source], track, net_key)
            for target, column in net.arrivals.items():
                canvas.vertical(column, track, arrow_row, net_key)
                if not elements[target].is_line:
                    canvas.text[arrow_row, column] = _ARROW
        net_id += len(gap.nets)
        top = arrow_row + 1
    width = max(e.x + e.width for e in elements)
    return DagLayout(lines=canvas.lines(top, width), boxes=tuple(boxes))
