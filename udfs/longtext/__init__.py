"""The long-text stage's record logic (InternLM2 report §3.1.3), pure Python, no Spark:

- statistics.py: length selection (UTF-8 bytes) and the statistical filters, one rule per statistic;
- domain.py: the domain of a document from URL patterns and text markers;
- cohesion.py: lexical cohesion across boundaries (no model);
- coherence.py: the perplexity-difference features and the coherence score;
- model.py: the causal LM's provenance, one-time conversion and per-process cache.
"""
