"""The package installs and runs on its own: a wheel built from the repository (through its
sdist, as `python -m build` does) holds the templates, print templates and migrations,
installs no top-level modules, and once installed into a fresh virtualenv migrates a new
database and serves the sign-in page and a PDF from a directory that is not the repository.

Offline and quick: the build uses the setuptools of the running environment (no build
isolation), and the fresh virtualenv gets the wheel alone (`--no-deps`) and reaches the
dependencies already installed here through a .pth file, without their .pth hooks, so the
repository's editable install stays out of sight.
"""

from __future__ import annotations

import http.client
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import tomllib
import zipfile
from collections.abc import Iterator
from http.cookies import SimpleCookie
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlencode

import pytest
from packaging.requirements import Requirement
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[2]
# Folders at the repository's top level that the wheel carries inside the package.
BUNDLED = ("templates", "reports", "migrations", "docs")
# Left out of the copy the sdist is built from: what a checkout holds but never ships.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "instance", "__pycache__", "*.pyc", "build", "dist",
    "*.egg-info", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".hypothesis",
)  # fmt: skip
DEMO_PATIENT = "avery.quinn@example.org"
DEMO_PASSWORD = "demo-pass-2026"


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command to completion; its output, or a failure that shows it."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def repository_files(folder: Path) -> set[str]:
    """Files under `folder` as paths relative to it, bytecode left out."""
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from the sdist of a clean copy of the repository."""
    work = tmp_path_factory.mktemp("build")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE, symlinks=True)
    sdist = run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; "
            "print(build_meta.build_sdist(sys.argv[1]))",
            str(work / "sdist"),
        ],
        cwd=source,
    ).split()[-1]
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--wheel-dir",
            str(work / "dist"),
            str(work / "sdist" / sdist),
        ],
        cwd=work,
    )
    (built,) = (work / "dist").glob("clinic-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed, and this environment's dependencies."""
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=venv)
    python = str(venv / "bin" / "python")
    site_packages = run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=venv
    ).strip()
    # A bare path line: the dependencies (and pip) become importable, but the .pth files
    # over there, among them the repository's editable install, are not run.
    Path(site_packages, "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--ignore-installed",  # never look at (or uninstall) the repository's install
            "--disable-pip-version-check",
            str(wheel),
        ],
        cwd=venv,
    )
    return venv


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty working directory that is not the repository."""
    return tmp_path_factory.mktemp("elsewhere")


@pytest.fixture(scope="module")
def production_env(venv: Path) -> dict[str, str]:
    """The environment of a production start, without anything pointing at the repository."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CLINIC_", "PYTHON", "FLASK_", "GUNICORN_"))
        and name != "SECRET_KEY"
    }
    env.update(
        CLINIC_ENV="production",
        SECRET_KEY="packaging-test-secret-key",
        CLINIC_BASE_URL="https://diary.example.org",
    )
    return env


def test_every_package_under_clinic_is_listed_for_the_wheel() -> None:
    """pyproject.toml lists the packages explicitly (it maps the top-level folders into the
    wheel, which package discovery cannot do): a package added under clinic/ and missing
    from that list would silently be left out of the wheel."""
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "clinic").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    mapped = {f"clinic.{folder}" for folder in BUNDLED}
    assert settings["package-dir"] == {f"clinic.{folder}": folder for folder in BUNDLED}
    missing = sorted(on_disk - set(settings["packages"]))
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml"
    assert set(settings["packages"]) == on_disk | mapped


def test_the_suite_runs_on_versions_within_the_declared_bounds() -> None:
    """Every dependency installed here is within pyproject.toml's bounds, so the suite
    vouches for versions a fresh install can get (and a tightened bound is noticed)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    outside = [
        f"{requirement.name} {version(requirement.name)} is not {requirement.specifier}"
        for line in (*project["dependencies"], *project["optional-dependencies"]["dev"])
        if not (requirement := Requirement(line)).specifier.contains(version(requirement.name))
    ]
    assert outside == []


@pytest.mark.packaging
def test_the_wheel_is_complete_and_installs_no_top_level_modules(wheel: Path) -> None:
    """Every file of clinic/, templates/, reports/, migrations/ and docs/ is in the wheel, the
    four folders inside the package; nothing but the package is installed (no `config`, `wsgi`
    or gunicorn settings at the top of site-packages), and no bytecode ships."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        top_level = archive.read("clinic-0.1.0.dist-info/top_level.txt").decode().split()

    expected = {f"clinic/{name}" for name in repository_files(ROOT / "clinic")}
    for folder in BUNDLED:
        expected |= {f"clinic/{folder}/{name}" for name in repository_files(ROOT / folder)}
    assert expected - names == set()
    assert "clinic/templates/auth/login.html" in names
    assert "clinic/reports/print.css" in names
    assert "clinic/migrations/alembic.ini" in names
    assert "clinic/docs/safety/hazards.json" in names
    assert top_level == ["clinic"]
    assert {name.split("/")[0] for name in names} == {"clinic", "clinic-0.1.0.dist-info"}
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


@pytest.mark.packaging
def test_the_installed_copy_is_the_one_that_runs(
    venv: Path, elsewhere: Path, production_env: dict[str, str]
) -> None:
    """From another directory, `clinic` and the files it ships come from the fresh
    virtualenv, not from the repository."""
    found = run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import clinic, clinic.bundled as b; "
            "print(clinic.__file__, b.TEMPLATES, b.REPORTS, b.MIGRATIONS, sep='\\n')",
        ],
        cwd=elsewhere,
        env=production_env,
    ).split("\n")[:4]
    site_packages = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    for path in found:
        assert Path(path).is_relative_to(site_packages / "site-packages" / "clinic"), path
        assert not Path(path).is_relative_to(ROOT), path


@pytest.fixture(scope="module")
def server(venv: Path, elsewhere: Path, production_env: dict[str, str]) -> Iterator[int]:
    """gunicorn serving the installed app from another directory, on a new database that
    `flask --app clinic db upgrade` made and `seed-demo` filled; yields its port."""
    # `python -m flask` is the `flask` command: the wheel went in without its dependencies'
    # scripts, and a `flask` found on PATH could be another environment's.
    flask = [str(venv / "bin" / "python"), "-m", "flask", "--app", "clinic"]
    run([*flask, "db", "upgrade"], cwd=elsewhere, env=production_env)
    run([*flask, "seed-demo"], cwd=elsewhere, env=production_env)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # gunicorn 27 opens a control socket in XDG_RUNTIME_DIR (else ~/.gunicorn/), one path for
    # every server of the user: this one keeps to its own directory.
    server_env = {**production_env, "XDG_RUNTIME_DIR": str(elsewhere)}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            str(venv / "bin" / "python"),
            "-m",
            "gunicorn",
            "--config",
            "python:clinic.gunicorn_config",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "clinic:create_app()",
        ],
        cwd=elsewhere,
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if get(port, "/healthz").status == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            assert time.monotonic() < deadline, "gunicorn did not answer /healthz within 30 s"
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()


class Reply:
    """A response read whole: status, headers and body."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = response.headers
        self.body = response.read()


def get(port: int, path: str, cookies: dict[str, str] | None = None) -> Reply:
    """GET `path` from the server, sending `cookies`."""
    return request(port, "GET", path, cookies=cookies)


def request(
    port: int,
    method: str,
    path: str,
    cookies: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> Reply:
    """One request, plain HTTP. Cookies are handed over by hand: production marks them
    Secure, which a client library would then keep off a plain-HTTP loopback connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": f"127.0.0.1:{port}"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        return Reply(connection.getresponse())
    finally:
        connection.close()


def keep_cookies(reply: Reply, cookies: dict[str, str]) -> None:
    """Take the cookies a response sets into `cookies`."""
    for header in reply.headers.get_all("Set-Cookie") or []:
        for name, morsel in SimpleCookie(header).items():
            cookies[name] = morsel.value


@pytest.mark.packaging
def test_the_installed_app_migrates_and_serves_from_another_directory(
    server: int, venv: Path
) -> None:
    """After `flask --app clinic db upgrade` (the migrations found inside the package, the
    database in the installed instance folder), gunicorn "clinic:create_app()" serves the
    real sign-in page with its stylesheet and the About page from the documents the
    package carries (docs/safety/), and a signed-in patient downloads their plan as a PDF
    rendered from the print templates the package carries."""
    assert (venv / "var" / "clinic-instance" / "clinic.sqlite3").is_file()

    cookies: dict[str, str] = {}
    login = get(server, "/login")
    assert login.status == 200
    page = login.body.decode()
    assert "<form" in page and 'name="password"' in page
    assert get(server, "/static/site.css").status == 200
    about = get(server, "/about")
    assert about.status == 200 and "It does not diagnose." in about.body.decode()
    keep_cookies(login, cookies)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token is not None

    signed_in = request(
        server,
        "POST",
        "/login",
        cookies=cookies,
        form={"email": DEMO_PATIENT, "password": DEMO_PASSWORD, "csrf_token": token.group(1)},
    )
    assert signed_in.status == 302, signed_in.body.decode()[:500]
    keep_cookies(signed_in, cookies)

    plan = get(server, "/diary/plan.pdf", cookies=cookies)
    assert plan.status == 200
    assert plan.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(plan.body))
    assert len(reader.pages) >= 1
    assert reader.metadata is not None and reader.metadata.title == "Your session plan"
    assert "Your session plan" in reader.pages[0].extract_text()
