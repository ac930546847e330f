"""Retrieval: the question parsed once, expanded, and matched against the index (dense + BM25)."""
