"""Real web instances (gunicorn, as production starts them) for tests of a deployment of
several, and a browser that talks to them over HTTP.

`running_instances` starts `gunicorn --config python:clinic.gunicorn_config
"clinic:create_app()"` once per name, each on a free port with the environment it is given
and an instance folder of its own (they share nothing but what the settings name), waits
until each answers /healthz, and stops them afterwards; their output goes to log files,
printed when the block fails.

`Browser` keeps its cookies itself and sends them to whichever instance it is pointed at,
as a browser does to one address behind a load balancer. (Production marks cookies Secure,
and the instances under test speak plain HTTP on the loopback.)
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import requests

from tests.support.client import csrf_token_in
from tests.support.factories import PASSWORD
from tests.support.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


@dataclass
class Instance:
    """A running gunicorn instance."""

    name: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextmanager
def running_instances(
    names: Sequence[str], environment: dict[str, str], folder: Path, workers: int = 2
) -> Iterator[list[Instance]]:
    """One gunicorn instance per name, each with `workers` processes and an instance
    folder of its own under `folder`, for the block. They start together and are killed
    together, each with its workers."""
    instances: list[Instance] = []
    try:
        for name in names:  # started inside the try: one that fails still stops the others
            instances.append(_start(name, environment, folder / name, workers))
        deadline = time.monotonic() + 45
        for instance in instances:
            while not _healthy(instance):
                if instance.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"instance {instance.name} did not start")
                time.sleep(0.1)
        yield instances
    except BaseException:
        for instance in instances:
            print(f"--- instance {instance.name} log ---\n{instance.log}", file=sys.stderr)
        raise
    finally:
        for instance in instances:
            # The master and its workers at once: nothing of theirs needs keeping, and
            # gunicorn's own shutdown takes seconds each.
            os.killpg(instance.process.pid, signal.SIGKILL)
        for instance in instances:
            instance.process.wait(timeout=10)


def _start(name: str, environment: dict[str, str], folder: Path, workers: int) -> Instance:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = folder / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
            [
                str(GUNICORN),
                "--config",
                "python:clinic.gunicorn_config",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "clinic:create_app()",
            ],
            cwd=ROOT,
            env={**environment, "CLINIC_INSTANCE_PATH": str(folder / "instance")},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group of its own, stopped whole
        )
    return Instance(name, port, log_path, process)


def _healthy(instance: Instance) -> bool:
    try:
        return requests.get(f"{instance.base}/healthz", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


@dataclass
class Browser:
    """One browser: its cookies, sent to whichever instance a request goes to."""

    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, instance: Instance, path: str, **kwargs) -> requests.Response:
        """A request without following redirects; the cookies it sets are kept."""
        header = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = requests.request(
            method,
            instance.base + path,
            headers={"Cookie": header} if header else {},
            allow_redirects=False,
            timeout=30,
            **kwargs,
        )
        for line in response.raw.headers.getlist("Set-Cookie"):
            for name, morsel in SimpleCookie(line).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)  # deleted
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, instance: Instance, path: str) -> requests.Response:
        return self.request("GET", instance, path)

    def post(self, instance: Instance, path: str, data: dict[str, str]) -> requests.Response:
        return self.request("POST", instance, path, data=data)

    def csrf_token(self, instance: Instance, path: str = "/login") -> str:
        """The CSRF token of the first form on `path` (the sign-in page by default)."""
        return csrf_token_in(self.get(instance, path).text)

    def sign_in(self, instance: Instance, email: str, password: str = PASSWORD) -> int:
        """Sign in through the form; the status of the answer (302 when signed in)."""
        token = self.csrf_token(instance)
        data = {"email": email, "password": password, "csrf_token": token}
        return self.post(instance, "/login", data).status_code

    def sign_out(self, instance: Instance) -> int:
        token = csrf_token_in(self.get(instance, "/dashboard/").text)
        return self.post(instance, "/logout", {"csrf_token": token}).status_code

    def copy(self) -> Browser:
        """Another browser holding these cookies now (a copied cookie)."""
        return Browser(dict(self.cookies))


TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def title_of(response: requests.Response) -> str:
    """The page's <title>, for messages."""
    match = TITLE.search(response.text)
    return match.group(1).strip() if match else f"(status {response.status_code})"
