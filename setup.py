from setuptools import setup

setup(
    name="corpusforge",
    version="0.1.0",
    description="Common Crawl WARC files to clean LLM pretraining text on Apache Spark (InternLM2 web-data pipeline)",
    python_requires=">=3.10",
    packages=["jobs", "udfs", "conf"],
    package_data={"conf": ["*.yaml"]},
    install_requires=[
        "pyspark>=4.0,<5",
        "pyarrow>=15",
        "pandas>=2.0,<3",  # pyspark 4 does not support pandas 3 yet
        "numpy>=1.26",
        "fastwarc>=2.0,<3",
        "resiliparse>=2.0,<3",
        "warcio>=1.7,<2",
        "trafilatura>=2.0,<3",
        "lxml_html_clean>=0.4",
        "pycld2>=0.41",
        "tldextract>=5.1,<6",
        "fsspec>=2024.2",
        "s3fs>=2024.2",
        "aiohttp>=3.9",
        "pydantic>=2.5,<3",
        "pyyaml>=6",
        "typer>=0.12",
        "orjson>=3.9",
        "matplotlib>=3.7",
        "zstandard>=0.22",
    ],
    extras_require={
        "test": ["pytest>=8", "hypothesis>=6.100", "moto[server]>=5.0"],
    },
    entry_points={"console_scripts": ["corpusforge=jobs.cli:main"]},
)
