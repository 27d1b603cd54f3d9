"""corpusforge: Common Crawl WARC files to clean LLM pretraining text on Apache Spark.

The repository root is this package: installed, its folders are `corpusforge.jobs` (Spark drivers),
`corpusforge.udfs` (pure record logic), `corpusforge.conf` (configuration) and `corpusforge.resources`
(bundled lists and models), so nothing generic lands at the top of site-packages.
"""
__version__ = "0.1.0"
