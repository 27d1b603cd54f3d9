"""Data shipped with corpusforge: block lists, lexicons and the default classifier heads.

Conf paths that start with "resources/" name files in this package, wherever it is installed (a
source checkout or an installed wheel); every other path is used as given. On a cluster whose
executors cannot see the driver's files, point the conf at a copy on shared storage (s3://, hdfs://).
"""
from __future__ import annotations

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent
PREFIX = "resources/"


def resolve(path: str) -> str:
    """The real location of a conf path: bundled resources are found inside the installed package."""
    if path.startswith(PREFIX):
        return str(RESOURCES_DIR / path[len(PREFIX):])
    return path
