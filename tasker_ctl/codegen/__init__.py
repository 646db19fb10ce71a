"""Code generation from a task template: pydantic models, handler stubs and tests (Python).

The command line calls these; none of them prints. Errors are ``TaskerCtlError`` subclasses.
"""

from __future__ import annotations

from tasker_ctl.codegen.generate import (
    CodegenKind,
    GeneratedCode,
    generate_code,
    handlers_module_for,
    output_files,
    read_codegen_template,
    resolve_language,
    stdout_text,
    write_files,
)

__all__ = [
    "CodegenKind",
    "GeneratedCode",
    "generate_code",
    "handlers_module_for",
    "output_files",
    "read_codegen_template",
    "resolve_language",
    "stdout_text",
    "write_files",
]
