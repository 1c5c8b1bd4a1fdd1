"""Flask extensions, created unbound so any module can import them without the app.

`create_app` binds each one with `init_app`. Models import `db` from here, never from the
package root, so there are no import cycles.
"""

from typing import TYPE_CHECKING, ClassVar

from flask import Flask, current_app
from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names keep Alembic migrations identical on SQLite and PostgreSQL
# and let later migrations drop or alter a constraint by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:
        # Every model maps one table (none maps a join or a subquery), so its __table__ can
        # be deleted from and updated.
        __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)

# The base of every model. Flask-SQLAlchemy builds `db.Model` at run time, so a type checker
# sees it as Any; the class it builds derives from Base, which carries the mapping's types.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
cache = Cache()
# Translations and local date formats (clinic.i18n chooses the language of a request).
babel = Babel()
# Limits are declared on the views (clinic.auth.limits), counted per client address.
limiter = Limiter(key_func=get_remote_address)


@limiter.request_filter
def _rate_limits_off() -> bool:
    # Flask-Limiter keeps one on/off switch on this shared object; with several apps in one
    # process (the tests) each app's own RATELIMIT_ENABLED must decide, per request.
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def forget_inherited_connections(app: Flask) -> None:
    """In a process just forked from one that holds `app` (gunicorn's `--preload`, huey's
    process workers): leave the parent's pooled connections to the parent and open this
    process's own. Two processes talking over one connection mix their answers."""
    with app.app_context():
        for engine in db.engines.values():
            # close=False: closing would end the parent's connections too (they share the
            # socket); the child only drops its references to them.
            engine.dispose(close=False)
