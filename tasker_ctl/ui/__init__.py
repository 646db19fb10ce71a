"""Rich views for the command line: live progress, tables and graphs.

Besides ``tasker_ctl.cli``, this is the only package that imports rich. Every view takes an
injected ``Console`` (or returns a renderable), so tests render with a fixed-width, colourless
console and compare exact strings.
"""
