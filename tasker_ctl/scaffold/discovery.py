"""Finding scaffold plugins: the search path and the reference's three-level search.

For each directory on the search path:

1. if it holds ``tasker-plugin.toml``, it is the plugin and nothing below it is searched;
2. otherwise each immediate subdirectory (sorted by name, unlike the reference) is checked for
   ``sub/tasker-plugin.toml``, then ``sub/tasker-cli-plugin/tasker-plugin.toml``.

So a tasker-contrib checkout (``python/tasker-cli-plugin/…``) works as a plugin path, as does a
single plugin directory. A manifest found twice (the same file by two routes) counts once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tasker_ctl.config import ProjectConfig
from tasker_ctl.scaffold.manifest import MANIFEST_FILENAME, Plugin, read_manifest

_NESTED_PLUGIN_DIR = "tasker-cli-plugin"
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def bundled_scaffolds_dir() -> Path:
    """The plugins shipped with tasker-ctl.

    A wheel carries them at ``tasker_ctl/_bundled/scaffolds``; an editable install (a checkout)
    has them at the top-level ``scaffolds/`` beside the package.
    """
    packaged = _PACKAGE_DIR / "_bundled" / "scaffolds"
    return packaged if packaged.is_dir() else _PACKAGE_DIR.parent / "scaffolds"


def plugin_search_path(flags: Sequence[Path], config: ProjectConfig) -> list[Path]:
    """``--plugin-path`` flags, then the project file's ``plugin-paths``, then the bundled ones."""
    return [*flags, *config.plugin_paths, bundled_scaffolds_dir()]


@dataclass(frozen=True)
class Discovery:
    """The plugins found, in search order, and warnings about what was skipped."""

    plugins: list[Plugin]
    warnings: list[str] = field(default_factory=list)


def discover_plugins(search_path: Sequence[Path]) -> Discovery:
    """Load every plugin on ``search_path``; bad manifests are skipped with a warning."""
    plugins: list[Plugin] = []
    warnings: list[str] = []
    seen: set[Path] = set()
    for directory in search_path:
        if not directory.is_dir():
            warnings.append(f"plugin path {directory} is not a directory; skipped")
            continue
        for manifest_path in _manifests_under(directory):
            key = manifest_path.resolve()
            if key in seen:
                continue
            seen.add(key)
            reading = read_manifest(manifest_path)
            if reading.plugin is None or reading.problems:
                details = "; ".join(reading.problems)
                warnings.append(f"skipping plugin {manifest_path}: {details}")
                continue
            plugins.append(reading.plugin)
    return Discovery(plugins, warnings)


def _manifests_under(directory: Path) -> Iterator[Path]:
    own = directory / MANIFEST_FILENAME
    if own.is_file():
        yield own
        return
    for sub in sorted(child for child in directory.iterdir() if child.is_dir()):
        for candidate in (sub / MANIFEST_FILENAME, sub / _NESTED_PLUGIN_DIR / MANIFEST_FILENAME):
            if candidate.is_file():
                yield candidate
                break
