"""Bundled YAML configuration files (shipped inside the wheel so executors and spark-submit find them)."""
from pathlib import Path

CONF_DIR = Path(__file__).resolve().parent
DEFAULT_FILE = CONF_DIR / "default.yaml"
LOCAL_FILE = CONF_DIR / "local.yaml"
