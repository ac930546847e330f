"""The ways in: command line, web chat and editor, HTTP server, evaluation commands."""

import os

# Gradio's queue rebuilds a pandas DataFrame of up to 10,000 past events after every request, for
# a monitoring page this app does not serve (enable_monitoring is off): wasted work on each
# question, and under pandas 3 two deprecation warnings each time (~220 in a test run). It does
# so once per GRADIO_ANALYTICS_CACHE_FREQUENCY events: make that never. Read when a queue is made,
# so it is set here, before any app module builds one; a value set by the operator is kept.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(2**62))
