"""corpusforge's configuration: the bundled YAML files (default.yaml documents every key; local.yaml is
the laptop/sample configuration), the schema they are validated against and the loader.

    from corpusforge.conf import Config, ConfigError, load_config

The YAML files are read through importlib.resources, so they are found inside a wheel or a zip shipped
with --py-files as well as in a source checkout."""
from corpusforge.conf.loading import DEFAULT_FILE, LOCAL_FILE, load_config
from corpusforge.conf.schema import Config, ConfigError

__all__ = ["Config", "ConfigError", "DEFAULT_FILE", "LOCAL_FILE", "load_config"]
