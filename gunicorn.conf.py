"""gunicorn's settings when it is started from the project folder (it reads this file by
itself): the ones production uses, defined in clinic/gunicorn_config.py, which the
installed package carries (`gunicorn --config python:clinic.gunicorn_config ...`)."""

from clinic.gunicorn_config import access_log_format, accesslog, logger_class, post_fork

__all__ = ["access_log_format", "accesslog", "logger_class", "post_fork"]
