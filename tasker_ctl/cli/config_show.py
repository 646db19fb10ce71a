"""``config show``: the settings tasker-ctl resolves here, and where each one came from."""

from __future__ import annotations

from tasker_ctl.cli.options import FormatOption, OutputFormat, print_json, project_config


def show(output_format: FormatOption = OutputFormat.TEXT) -> None:
    """Print the config file in use and each resolved setting with its source.

    Example: tasker-ctl config show
    """
    from tasker_ctl.config import resolved_settings
    from tasker_ctl.scaffold.discovery import bundled_scaffolds_dir

    config = project_config()
    settings = resolved_settings(config, bundled_scaffolds_dir())
    if output_format is OutputFormat.JSON:
        print_json(
            {
                "config_file": None if config.file is None else str(config.file),
                "settings": {
                    item.key: [{"value": value, "source": origin} for value, origin in item.values]
                    for item in settings
                },
            }
        )
        return
    print(f"Config file: {config.file if config.file is not None else '(none found)'}")
    for item in settings:
        if not item.values:
            print(f"  {item.key}: (not set)")
        elif len(item.values) == 1 and item.key not in ("template-paths", "plugin-paths"):
            value, origin = item.values[0]
            print(f"  {item.key}: {value}  [{origin}]")
        else:
            print(f"  {item.key}:")
            for value, origin in item.values:
                print(f"    - {value}  [{origin}]")
        if item.note:
            print(f"    ({item.note})")
