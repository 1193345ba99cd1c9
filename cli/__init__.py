"""The typer app and what it drives: config, files, reports."""
