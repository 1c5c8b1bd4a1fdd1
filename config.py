"""The settings, for readers of the repository: they are read from the environment by
`clinic/config.py`, which lists every variable.

The loader lives inside the package so that an installed wheel carries it (a top-level
`config` module would be installed into site-packages under that generic name). This file
keeps the repository's `config.py` pointing at it: `from config import load_config` still
works from the project folder.
"""

from clinic.config import ENVIRONMENTS, ConfigError, instance_path_from_environment, load_config

__all__ = ["ENVIRONMENTS", "ConfigError", "instance_path_from_environment", "load_config"]
