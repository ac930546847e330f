"""The ways in: command line, web chat and editor, HTTP server, evaluation commands."""
