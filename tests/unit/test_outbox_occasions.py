"""Every occasion the code posts a message for is named by something that never comes back.

The outbox keeps one message per key (kind, occasion, recipient, channel): a key already
written means "sent already". On SQLite, a table without AUTOINCREMENT hands a deleted
row's id to the next row, so an occasion named by such an id would, after an erasure or
the daily clean-up, make a new message a duplicate of an old one, and nobody is told.

These tests read every `post(...)` call in clinic/ (and every call of a function that
passes its own argument on as the occasion), and hold each occasion expression against a
reviewed list saying whose ids it carries; every such table must be in
`clinic.outbox.IDS_NEVER_REUSED` and have `sqlite_autoincrement=True` in its model. A new
occasion fails here until it is classified.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from clinic.extensions import db
from clinic.outbox import IDS_NEVER_REUSED

PACKAGE = Path(__file__).resolve().parents[2] / "clinic"

# Each occasion expression found in the code, and the table whose row ids it carries
# (None: no row id, e.g. a day or a digest of a secret).
OCCASIONS: dict[str, str | None] = {
    "invitation.id": "invitations",
    "f'{user.id}:{now.isoformat()}'": "users",
    "occasion": "users",  # request_email_change: occasion = f"{user.id}:{now.isoformat()}"
    "f'flag-{anchor.id}'": "red_flags",
    "f'{occasion}:level-{level}'": "red_flags",  # occasion = f"flag-{group[0].id}"
    "f'{status.assignment.id}:{state.occasion.key}'": "measure_assignments",
    "day.isoformat()": None,
    "hashlib.sha256(token.encode()).hexdigest()[:32]": None,
    # A slot's local date and place in the day ("slot:2026-11-03-1"), or the moment a silence
    # began ("nudge:20261103T073000"): clinic.domain.reminders.due.
    "reminder.occasion": None,
    # A letter sent to the recipients of the address book (clinic.letters.services).
    "letter.id": "letters",
}
# Not occasions but in every key or message: the recipient account (`user:<id>`) and the
# Message-ID (`<outbox-<id>@...>`); a push message's device, its address in the key
# (`address:push device <id>`, clinic.push.notify).
ALWAYS = {"users", "outbox_messages", "push_subscriptions"}


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    # `notices.notify_owner(...)`; but `something.post(...)` is a route or a client.
    return func.attr if isinstance(func, ast.Attribute) and func.attr != "post" else None


def _argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == name), None)


def _functions() -> Iterator[ast.FunctionDef]:
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                yield node


def occasion_expressions() -> set[str]:
    """The source of every occasion given to `post` in clinic/, following functions that
    hand one of their own parameters on as the occasion (to their callers' arguments)."""
    # The functions that post: name -> (index, name) of the occasion parameter.
    posting = {"post": (1, "occasion")}
    functions = list(_functions())
    changed = True
    while changed:  # a function passing its parameter on to one that posts, and so on
        changed = False
        for function in functions:
            params = [a.arg for a in function.args.args]
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                target = posting.get(_called_name(call) or "")
                if target is None or function.name in posting:
                    continue
                given = _argument(call, *target)
                if isinstance(given, ast.Name) and given.id in params:
                    posting[function.name] = (params.index(given.id), given.id)
                    changed = True
    found = set()
    for function in functions:
        for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
            target = posting.get(_called_name(call) or "")
            if target is None:
                continue
            given = _argument(call, *target)
            assert given is not None, f"{function.name}: a call without an occasion"
            passed_on = function.name in posting and isinstance(given, ast.Name)
            if not passed_on:
                found.add(ast.unparse(given))
    return found


def test_every_occasion_in_the_code_is_classified() -> None:
    """The occasions posted in clinic/ are exactly the reviewed ones (a new one must say
    whose ids it carries, if any)."""
    assert occasion_expressions() == set(OCCASIONS)


def test_every_table_whose_ids_go_into_messages_never_reuses_them() -> None:
    """Each table whose ids name an occasion, a recipient or a Message-ID is listed in
    IDS_NEVER_REUSED and has AUTOINCREMENT on SQLite (`sqlite_autoincrement=True`)."""
    carried = {table for table in OCCASIONS.values() if table is not None} | ALWAYS
    assert carried <= IDS_NEVER_REUSED
    without = [
        name
        for name in sorted(IDS_NEVER_REUSED)
        if not db.metadata.tables[name].dialect_options["sqlite"]["autoincrement"]
    ]
    assert not without, f"ids reused after deletion on SQLite in {without}"
