"""The one entry point: `python -m corpusforge …`, and the file spark-submit runs:

    spark-submit --py-files dist/corpusforge.zip … __main__.py run --input … --output …

It holds nothing but the call, so no module of the package is ever loaded twice (once as __main__).
"""
from corpusforge.jobs.cli import main

if __name__ == "__main__":
    main()
