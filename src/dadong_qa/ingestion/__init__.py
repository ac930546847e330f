"""Ingest: files, web pages and feeds in; cleaned articles, sentences and chunks out."""
