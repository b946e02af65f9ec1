"""Retrieval for indexes and research: a lexical ranking (BM25), a dense embedding, and their fusion.
Worker-only: the API never imports this package (numpy and the embedding weights stay out of a poll's cold start)."""
