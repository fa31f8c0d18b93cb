"""The Dockerfile and .dockerignore, checked without Docker (no engine runs here or in CI).

What can be checked statically is: the runtime stage runs as a numeric non-root user, installs no dev
extras, starts the package's console script with a command line the real CLI accepts, exposes the
serving port, and health-checks /healthz with python; and the build context that .dockerignore lets
through holds every COPY source and is enough to build the package (a wheel is built from exactly
those files).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from typer.main import get_command

from gateway.cli import app
from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined."""

    keyword: str
    args: str

    def exec_form(self) -> list[str]:
        """The JSON (exec) form of ENTRYPOINT/CMD/RUN."""
        parsed = json.loads(self.args)
        assert isinstance(parsed, list)
        return [str(a) for a in parsed]


def _instructions() -> list[Instruction]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, args = line.strip().partition(" ")
            result.append(Instruction(keyword.upper(), args.strip()))
    return result


def _stages() -> list[list[Instruction]]:
    stages: list[list[Instruction]] = []
    for ins in _instructions():
        if ins.keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(ins)
    return stages


def _runtime() -> list[Instruction]:
    return _stages()[-1]


def _last(stage: list[Instruction], keyword: str) -> Instruction:
    found = [i for i in stage if i.keyword == keyword]
    assert found, f"no {keyword} in the stage"
    return found[-1]


def _project() -> dict[str, object]:
    return dict(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"])


def test_runtime_stage_runs_as_a_numeric_non_root_user() -> None:
    """The final USER is a numeric uid other than 0 (Kubernetes can verify runAsNonRoot), the chart's uid."""
    user = _last(_runtime(), "USER").args
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, user
    values = (ROOT / "helm/genesis-gateway/values.yaml").read_text(encoding="utf-8")
    assert f"runAsUser: {uid}" in values


def test_both_stages_use_a_slim_python_the_package_supports() -> None:
    """Build and runtime stages share one python:<version>-slim base meeting requires-python."""
    default = re.search(r"^ARG PYTHON_VERSION=(\d+)\.(\d+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert default, "ARG PYTHON_VERSION=<major>.<minor> is the single place the version is set"
    bases = {stage[0].args.split()[0] for stage in _stages()}
    assert bases == {"python:${PYTHON_VERSION}-slim"}
    minimum = re.search(r">=(\d+)\.(\d+)", str(_project()["requires-python"]))
    assert minimum
    assert (int(default[1]), int(default[2])) >= (int(minimum[1]), int(minimum[2]))


def test_package_is_installed_without_dev_extras_or_cache() -> None:
    """pip installs `.` itself, not editable, with no extras (no dev tools) and no download cache."""
    installs = [i.args for i in _instructions() if i.keyword == "RUN" and "pip install" in i.args]
    assert installs
    for command in installs:
        assert "--no-cache-dir" in command
        assert re.search(r"\s\.$", command), command
        assert "[" not in command and "-e " not in command and "--editable" not in command


def test_entrypoint_is_the_console_script() -> None:
    """ENTRYPOINT runs the console script pyproject.toml declares."""
    entrypoint = _last(_runtime(), "ENTRYPOINT").exec_form()
    scripts = dict(_project()["scripts"])  # type: ignore[call-overload]
    assert entrypoint == ["genesis-gateway"]
    assert entrypoint[0] in scripts


def test_default_command_is_a_valid_serve_on_all_interfaces() -> None:
    """CMD is a `serve` command line the real CLI accepts, reading the config the image ships, on 0.0.0.0."""
    cmd = _last(_runtime(), "CMD").exec_form()
    assert cmd[0] == "serve"
    params = get_command(app).commands["serve"].make_context("serve", cmd[1:]).params  # type: ignore[attr-defined]
    assert params["host"] == "0.0.0.0"
    copies = [i.args.split() for i in _runtime() if i.keyword == "COPY" and not i.args.startswith("--from")]
    assert [str(params["config"])] in [c[1:] for c in copies], "the image ships the file CMD reads"
    helpers = (ROOT / "helm/genesis-gateway/templates/_helpers.tpl").read_text(encoding="utf-8")
    assert str(Path(params["config"]).parent) in helpers, "the chart mounts its config where the image reads it"


def test_exposes_the_serving_port() -> None:
    """EXPOSE names the port serve listens on by default."""
    assert _last(_runtime(), "EXPOSE").args == str(Settings().port)


def test_python_environment() -> None:
    """The runtime writes no bytecode (read-only root) and does not buffer its logs."""
    env = " ".join(i.args for i in _runtime() if i.keyword == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "PYTHONUNBUFFERED=1" in env


def test_healthcheck_hits_healthz_with_python() -> None:
    """HEALTHCHECK asks /healthz with the image's python (the slim image has no curl)."""
    check = _last(_runtime(), "HEALTHCHECK").args
    command = Instruction("CMD", check[check.index("CMD") + 3 :].strip()).exec_form()
    assert command[0] == "python"
    assert "/healthz" in command[-1]
    assert "curl" not in check and "wget" not in check


def _dockerignore() -> list[tuple[bool, re.Pattern[str]]]:
    """(included?, regex) per .dockerignore line, with Docker's meaning of *, ** and ?."""
    rules = []
    for raw in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
        rules.append((negate, re.compile(regex.replace(r"\?", "[^/]") + "$")))
    return rules


def _in_context(relative: Path) -> bool:
    """Whether Docker sends a path: the last rule matching it or one of its parents decides."""
    candidates = [relative, *relative.parents][:-1]
    included = True
    for negate, regex in _dockerignore():
        if any(regex.match(p.as_posix()) for p in candidates):
            included = negate
    return included


def _context_files() -> list[Path]:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [Path(p) for p in tracked.splitlines() if _in_context(Path(p))]


def test_dockerignore_keeps_the_context_small() -> None:
    """Dev state, tests, the chart and VCS data stay out of the build context; the sources go in."""
    for kept_out in (".venv/bin/python", ".git/HEAD", "tests/conftest.py", "helm/genesis-gateway/Chart.yaml"):
        assert not _in_context(Path(kept_out)), kept_out
    assert not _in_context(Path("gateway/__pycache__/app.cpython-312.pyc"))
    for sent in ("pyproject.toml", "README.md", "gateway/cli/__init__.py", "scoring/types.py"):
        assert _in_context(Path(sent)), sent


def test_every_copy_source_is_in_the_context() -> None:
    """Every COPY source exists in the repository and is not excluded by .dockerignore."""
    for ins in _instructions():
        if ins.keyword != "COPY" or ins.args.startswith("--from"):
            continue
        *sources, _dest = ins.args.split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert _in_context(Path(source)), f"{source} is excluded by .dockerignore"


def test_the_context_builds_the_package(tmp_path: Path) -> None:
    """A wheel built from only the files the build stage copies holds both packages, their data and the script."""
    src = tmp_path / "src"
    for ins in (i for i in _stages()[0] if i.keyword == "COPY"):
        *sources, dest = ins.args.split()
        into_dir = dest.endswith("/") or len(sources) > 1
        for source in map(Path, sources):
            for path in _context_files():
                if path == source:
                    target = src / dest / path.name if into_dir else src / dest
                elif source in path.parents:
                    target = src / dest / path.relative_to(source)
                else:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(ROOT / path, target)
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(src)],
        check=True,
        capture_output=True,
    )
    [wheel] = out.glob("genesis_gateway-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "gateway/cli/__init__.py" in names
    assert "gateway/examples/gateway.yaml" in names
    assert any(n.startswith("scoring/suites/") and n.endswith(".yaml") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "genesis-gateway = gateway.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
