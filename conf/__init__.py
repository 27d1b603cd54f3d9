"""Bundled YAML configuration files, read through importlib.resources so they are found inside a
wheel or zip shipped with --py-files as well as in a source checkout."""
from importlib.resources import files

DEFAULT_FILE = files(__name__) / "default.yaml"
LOCAL_FILE = files(__name__) / "local.yaml"
