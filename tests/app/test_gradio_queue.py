"""Gradio's queue does no pandas work per request (issue 21, item 15: ~220 Pandas4Warnings)."""

from __future__ import annotations

import warnings

import dadong_qa.app  # noqa: F401  (what every app module imports first)


def test_the_queue_builds_no_analytics_frame_after_a_request():
    import gradio as gr

    with gr.Blocks() as blocks:
        gr.Markdown("x")
    blocks.queue()
    queue = blocks._queue
    queue.events_recorded = 1  # one request done: Gradio would now summarise its events with pandas
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas 3 warns twice for each summary
        summary = queue.compute_analytics_summary([{"function": "ask", "status": "success", "process_time": 0.1}])
    assert summary == {"functions": {}}  # not computed: the monitoring page that shows it is off
