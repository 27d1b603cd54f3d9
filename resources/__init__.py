"""Data shipped with corpusforge: block lists, lexicons and the default classifier heads.

Conf paths that start with "resources/" name files in this package, wherever it is installed (a
source checkout or an installed wheel); every other path is used as given. On a cluster whose
executors cannot see the driver's files, point the conf at a copy on shared storage (s3://, hdfs://).

Under spark-submit the project zip (--py-files, code only) comes first on the driver's sys.path, so
this package is imported from inside the archive, where data files are neither present nor readable
as paths. Bundled paths then resolve to the copy of the package installed on the driver (the
checkout or image that ran spark-submit), the one the driver reads cards from and ships with addFile.
"""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent
PACKAGE = __name__.split(".")[0]  # corpusforge: this folder is corpusforge.resources
PREFIX = "resources/"


def resolve(path: str) -> str:
    """The real location of a conf path: bundled resources are found inside the installed package."""
    if path.startswith(PREFIX):
        return str(data_dir() / path[len(PREFIX):])
    return path


@lru_cache(maxsize=1)
def data_dir() -> Path:
    """This package's directory when it is one, else (imported from a zip) the installed copy's."""
    if RESOURCES_DIR.is_dir():
        return RESOURCES_DIR
    directories = [entry for entry in sys.path if entry and Path(entry).is_dir()]
    for finder in sys.meta_path:  # the path finder (on directories only) and e.g. editable-install finders
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        try:
            spec = find_spec(PACKAGE, directories)
        except (ImportError, ValueError, TypeError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            if (Path(location) / RESOURCES_DIR.name / "NOTICE").is_file():
                return Path(location) / RESOURCES_DIR.name
    raise FileNotFoundError(
        f"the bundled resources (block lists, lexicons, models) are not readable at {RESOURCES_DIR}, an archive, "
        "and no installed corpusforge provides them. Fix: install corpusforge where the driver runs "
        "(pip install dist/corpusforge-*.whl) or point the conf paths that start with resources/ at a copy "
        "on shared storage.")
