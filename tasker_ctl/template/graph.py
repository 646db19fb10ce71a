"""Graph questions about a template's steps: order, levels, cycles, descendants, initial set.

Everything here works on a mapping ``step name -> its dependencies`` so that the validator (which
must cope with broken templates) and the engine (which works on stored tasks) share one
implementation. Orders are deterministic: ties are broken by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from tasker_ctl.template.models import StepType, TaskTemplate

Dependencies = Mapping[str, Sequence[str]]


def dependency_map(template: TaskTemplate) -> dict[str, tuple[str, ...]]:
    """``step name -> declared dependencies``, in template order."""
    return {step.name: step.dependencies for step in template.steps}


def dependents_map(dependencies: Dependencies) -> dict[str, list[str]]:
    """``step name -> steps that depend on it``, in template order; unknown names are skipped."""
    dependents: dict[str, list[str]] = {name: [] for name in dependencies}
    for name, parents in dependencies.items():
        for parent in parents:
            if parent in dependents and name not in dependents[parent]:
                dependents[parent].append(name)
    return dependents


def find_cycles(dependencies: Dependencies) -> list[list[str]]:
    """Every cycle closed by a back-edge of a depth-first search in template order.

    Each cycle is the path from the re-entered step back to itself, read in the
    "depends on" direction: ``["a", "b", "a"]`` means a depends on b and b on a.
    Iterative, so a 10,000-step chain does not hit the recursion limit.
    """
    white, gray, black = 0, 1, 2
    color = dict.fromkeys(dependencies, white)
    cycles: list[list[str]] = []
    for start in dependencies:
        if color[start] != white:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = [start]
        color[start] = gray
        while stack:
            node, index = stack[-1]
            parents = dependencies[node]
            if index < len(parents):
                stack[-1] = (node, index + 1)
                parent = parents[index]
                state = color.get(parent)
                if state == gray:
                    cycles.append([*path[path.index(parent) :], parent])
                elif state == white:
                    color[parent] = gray
                    stack.append((parent, 0))
                    path.append(parent)
            else:
                color[node] = black
                stack.pop()
                path.pop()
    return cycles


def execution_order(dependencies: Dependencies) -> list[str]:
    """Kahn's order: roots by name first, then each freed step, freed steps sorted by name.

    Steps on a cycle, or depending on a missing step, are left out (as in Tasker's detail table).
    """
    dependents = dependents_map(dependencies)
    waiting = {
        name: len({p for p in parents if p in dependencies})
        for name, parents in dependencies.items()
    }
    blocked = {
        n for n, parents in dependencies.items() if any(p not in dependencies for p in parents)
    }
    queue = sorted(n for n, count in waiting.items() if count == 0 and n not in blocked)
    order: list[str] = []
    position = 0
    while position < len(queue):
        name = queue[position]
        position += 1
        order.append(name)
        freed = []
        for child in dependents[name]:
            waiting[child] -= 1
            if waiting[child] == 0 and child not in blocked:
                freed.append(child)
        queue.extend(sorted(freed))
    return order


def parallel_levels(dependencies: Dependencies) -> list[list[str]]:
    """Steps grouped by the earliest wave they can run in (longest path from a root)."""
    level: dict[str, int] = {}
    for name in execution_order(dependencies):
        parents = [p for p in dependencies[name] if p in level]
        level[name] = 1 + max((level[p] for p in parents), default=-1)
    levels: list[list[str]] = [[] for _ in range(1 + max(level.values(), default=-1))]
    for name in sorted(level):
        levels[level[name]].append(name)
    return levels


def critical_path(dependencies: Dependencies) -> list[str]:
    """The longest chain of steps, root to leaf (ties broken by name)."""
    best: dict[str, tuple[int, str | None]] = {}
    for name in execution_order(dependencies):
        parents = sorted(p for p in dependencies[name] if p in best)
        previous = max(parents, key=lambda p: best[p][0], default=None)
        best[name] = (1 + (best[previous][0] if previous else 0), previous)
    if not best:
        return []
    tail: str | None = max(sorted(best), key=lambda n: best[n][0])
    chain: list[str] = []
    while tail is not None:
        chain.append(tail)
        tail = best[tail][1]
    return chain[::-1]


def roots(dependencies: Dependencies) -> list[str]:
    """Steps with no dependencies, in template order."""
    return [name for name, parents in dependencies.items() if not parents]


def leaves(dependencies: Dependencies) -> list[str]:
    """Steps nothing depends on, in template order."""
    return [name for name, children in dependents_map(dependencies).items() if not children]


def descendants(dependencies: Dependencies, starts: Iterable[str]) -> set[str]:
    """Every step reachable downstream of ``starts`` (the starts themselves excluded)."""
    dependents = dependents_map(dependencies)
    found: set[str] = set()
    frontier = list(starts)
    while frontier:
        for child in dependents.get(frontier.pop(), ()):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def initial_step_names(template: TaskTemplate) -> list[str]:
    """The steps a new task starts with (reference §6.1), in template order.

    Batch workers and deferred-convergence steps are created later, when their batchable or
    decision step completes; so is everything downstream of a decision step.
    """
    deferred_types = {StepType.BATCH_WORKER, StepType.DEFERRED_CONVERGENCE}
    decisions = [s.name for s in template.steps if s.step_type is StepType.DECISION]
    below_decisions = descendants(dependency_map(template), decisions)
    return [
        step.name
        for step in template.steps
        if step.step_type not in deferred_types and step.name not in below_decisions
    ]
