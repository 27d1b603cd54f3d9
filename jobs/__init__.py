"""Spark drivers of corpusforge: one module per stage, the pipeline runner and the command line."""
