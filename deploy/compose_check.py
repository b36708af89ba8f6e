"""`lienthong compose check`: deploy/compose.yaml brought up as local processes, in the order
and on the conditions it declares, and its wiring proven by what the running product answers.

The containers are the compose file's own (deploy/compose_plan.py maps them onto loopback,
deploy/compose_images.py runs each image's stand-in). A container is waited for as Compose
waits: `service_healthy` is its healthcheck passing within `start_period + interval × retries`,
`service_completed_successfully` its exit with 0. Then the probes ask the product what only a
correct wiring answers:

- the topics job made every topic of the layout, under the file's prefix;
- each portal replica takes a dossier, and the console (through the monitor and the database)
  knows it;
- the console opens the dossier's people in full at the portal: the two hold one operator token;
- the console's redrive is taken by the agency that holds the dossier's message: the agencies
  check its signature with that same token;
- each Kafka node's data, formatted with the file's cluster id, and the database are in their
  volumes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from contracts.identity import Sex, generate_personal_id
from deploy import compose_images as images
from deploy import embedded
from deploy.compose_file import BuiltImage, ComposeError, read_dockerfile
from deploy.compose_plan import Container, family, plan
from runtime.terminal import Console

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "deploy" / "compose.yaml"
OPERATOR = "Kiểm tra triển khai"
"""The officer's name the probes act under (the console's audit records it)."""
PROBE_TIMEOUT_S = 90.0
READ = "read the compose file"


@dataclass
class Step:
    what: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class Report:
    compose: str
    workdir: str
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)

    def as_dict(self) -> dict[str, Any]:
        return {
            "compose": self.compose,
            "workdir": self.workdir,
            "ok": self.ok,
            "steps": [s.__dict__ for s in self.steps],
        }


def secrets_for_the_check() -> dict[str, str]:
    """The values an operator's `.env` gives the file: made afresh, never the caller's."""
    return {
        "LT_DB_PASSWORD": "db" + secrets.token_hex(12),
        "LT_OPERATOR_TOKEN": "op" + secrets.token_hex(16),
        "LT_SUBMITTER_TOKEN": "sub" + secrets.token_hex(16),
    }


def dockerfile_of(compose: Path) -> Path:
    """Our image's Dockerfile, as the compose file's `build` names it."""
    import yaml

    doc = yaml.safe_load(compose.read_text(encoding="utf-8"))
    for service in (doc.get("services") or {}).values():
        build = service.get("build")
        if isinstance(build, dict):
            context = compose.parent / str(build.get("context", "."))
            return (context / str(build.get("dockerfile", "Dockerfile"))).resolve()
    raise ComposeError(f"{compose.name}: no service builds our image")


class Check:
    def __init__(self, compose: Path, workdir: Path, console: Console) -> None:
        self.compose = compose.resolve()
        self.workdir = workdir
        self.console = console
        self.environ = secrets_for_the_check()
        self.built = BuiltImage(workdir="/", env={}, user="root", writable=())
        """Our image as its Dockerfile makes it; read with the compose file (`run`)."""
        self.report = Report(str(self.compose), str(workdir))
        self.started: list[images.Started] = []
        self.healthy: dict[str, asyncio.Event] = {}
        self.completed: dict[str, asyncio.Future[int]] = {}
        self.running: dict[str, asyncio.Event] = {}
        self.containers: list[Container] = []
        self.t0 = time.monotonic()

    def run(self) -> Report:
        taken: set[int] = set()

        def free(avoid: set[int]) -> int:
            port = embedded.free_port(avoid | taken)
            taken.add(port)
            return port

        with self._step(READ):
            dockerfile = dockerfile_of(self.compose)
            if not dockerfile.is_file():
                raise ComposeError(f"{self.compose.name}: our image builds from {dockerfile}, which does not exist")
            self.built = read_dockerfile(dockerfile.read_text(encoding="utf-8"))
            self.containers = plan(self.compose, self.environ, self.workdir, self.built, free)
        if not self.report.ok:
            return self.report
        try:
            asyncio.run(self._up_and_probe())
        finally:
            self._down()
        return self.report

    @contextlib.contextmanager
    def _step(self, what: str) -> Any:
        began = time.monotonic()
        try:
            yield
        except (ComposeError, images.ContainerFailed, TimeoutError, AssertionError, OSError) as exc:
            self._record(what, False, str(exc), began)
        else:
            self._record(what, True, "", began)

    def _record(self, what: str, ok: bool, detail: str, began: float) -> None:
        step = Step(what, ok, detail, round(time.monotonic() - began, 1))
        self.report.steps.append(step)
        self.console.step(f"{'ok ' if ok else 'FAILED '}{what} ({step.seconds} s){': ' + detail if detail else ''}")

    async def _up_and_probe(self) -> None:
        services = {c.service for c in self.containers}
        for name in services:
            self.healthy[name], self.running[name] = asyncio.Event(), asyncio.Event()
            self.completed[name] = asyncio.get_running_loop().create_future()
        tasks = [asyncio.create_task(self._service(name)) for name in dict.fromkeys(c.service for c in self.containers)]
        up = asyncio.gather(*tasks)
        try:
            await up
        except Exception as exc:  # one container's failure ends the bring-up: nothing else is probed
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._record("bring the file up", False, str(exc) or type(exc).__name__, self.t0)
            return
        self._record(f"bring the file up ({len(self.started)} containers)", True, "", self.t0)
        await self._probe()

    async def _service(self, name: str) -> None:
        replicas = [c for c in self.containers if c.service == name]
        for dep, condition in replicas[0].depends_on.items():
            if condition == "service_healthy":
                await self.healthy[dep].wait()
            elif condition == "service_completed_successfully":
                await asyncio.shield(self.completed[dep])
            else:
                await self.running[dep].wait()
        began = time.monotonic()
        started = [await asyncio.to_thread(images.start, c, self.built, self.workdir / "logs") for c in replicas]
        self.started.extend(started)
        self.running[name].set()
        if started[0].process is None:
            self.console.step(f"{name}: {started[0].note}")
            return
        if replicas[0].healthcheck:
            await asyncio.gather(*(self._until_healthy(s) for s in started))
            self._record(f"{name} healthy ×{len(started)}", True, "", began)
            self.healthy[name].set()
        if replicas[0].job:
            codes = await asyncio.gather(*(asyncio.to_thread(s.process.wait) for s in started if s.process))
            if any(codes):
                raise images.ContainerFailed(f"{name} exited with {codes}:\n{images.tail(started[0].log)}")
            self._record(f"{name} completed", True, "", self.t0)
            self.completed[name].set_result(0)

    async def _until_healthy(self, started: images.Started) -> None:
        container, process = started.container, started.process
        assert process is not None
        budget = container.health_budget_s
        probe = images.health_command(container, self.built)
        assert probe is not None
        argv, env = probe
        deadline = time.monotonic() + budget
        while time.monotonic() < deadline:
            if process.poll() is not None:
                code = process.returncode
                raise images.ContainerFailed(
                    f"{container.name} exited ({code}) before it was healthy:\n{images.tail(started.log)}"
                )
            check = await asyncio.create_subprocess_exec(
                *argv, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
            )
            try:
                if await asyncio.wait_for(check.wait(), container.health_timeout_s) == 0:
                    return
            except TimeoutError:  # a failed attempt, as Compose counts one
                with contextlib.suppress(ProcessLookupError):  # it may end as the time runs out
                    check.kill()
                await check.wait()
            await asyncio.sleep(1.0)
        raise images.ContainerFailed(
            f"{container.name} not healthy within {budget:.0f} s (start_period + interval × retries):\n"
            + images.tail(started.log)
        )

    # --- probes --------------------------------------------------------------------------------

    def _ours(self, service: str) -> list[Container]:
        return [c for c in self.containers if c.service == service]

    async def _probe(self) -> None:
        job = next(c for c in self.containers if c.ours and c.job)
        await self._timed("the topics job made every topic", lambda: self._topics(job))
        dossiers: list[str] = []
        await self._timed("each portal replica takes a dossier", lambda: self._submit(dossiers))
        if not dossiers:
            return
        dashboard = f"http://127.0.0.1:{self._ours('dashboard')[0].local_env['LT_DASHBOARD_PORT']}"
        token = self.environ["LT_OPERATOR_TOKEN"]
        await self._timed("the console knows each dossier", lambda: self._known(dashboard, dossiers))
        await self._timed(
            "the console opens the people at the portal", lambda: self._open(dashboard, token, dossiers[0])
        )
        await self._timed(
            "an agency takes the console's signed redrive", lambda: self._redrive(dashboard, token, dossiers[0])
        )
        await self._timed("data sits in the volumes", self._volumes)

    async def _timed(self, what: str, probe: Callable[[], Awaitable[str]]) -> None:
        began = time.monotonic()
        try:
            detail = await asyncio.wait_for(probe(), PROBE_TIMEOUT_S)
        except (AssertionError, TimeoutError, aiohttp.ClientError, OSError) as exc:
            self._record(what, False, str(exc) or type(exc).__name__, began)
        else:
            self._record(what, True, detail, began)

    async def _topics(self, job: Container) -> str:
        """The topics job's command again, as a dry run with the job's own environment: the
        cluster matches the topics file when it finds no difference."""
        argv = images.our_argv(["lienthong", "topics", "apply", "--dry-run", "--json"])
        proc = await asyncio.create_subprocess_exec(
            *argv, env=images.our_env(job), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await proc.communicate()
        assert proc.returncode == 0, f"topics apply --dry-run exited {proc.returncode}: {err.decode()[-500:]}"
        answer = json.loads(out.decode().strip().splitlines()[-1])
        changes = [f"{c['topic']} {c['what']}: {c['have']} → {c['want']}" for c in answer["changes"]]
        assert not changes, "the cluster differs from the topics file: " + "; ".join(changes)
        prefix = job.env.get("LT_TOPIC_PREFIX", "lt")
        return f"the cluster of {answer['brokers']} brokers matches {answer['file']} under the prefix {prefix}"

    async def _submit(self, dossiers: list[str]) -> str:
        import random

        rng = random.Random()
        token = self.environ["LT_SUBMITTER_TOKEN"]
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            for portal in self._ours("portal"):
                year = rng.randrange(1960, 2000)
                body = {
                    "chain": "lltp",
                    "channel": "online",
                    "area": {"province": "042", "commune": "Phường Thành Sen"},
                    "applicant": {
                        "full_name": "Nguyễn Thị Kiểm Tra",
                        "personal_id": generate_personal_id("042", Sex.FEMALE, year, rng),
                        "sex": Sex.FEMALE.value,
                        "birth_year": year,
                    },
                    "purpose": "Kiểm tra triển khai",
                }
                url = f"http://127.0.0.1:{portal.local_env['LT_PORTAL_PORT']}/api/v1/dossiers"
                async with http.post(url, json=body, headers={"Authorization": f"Bearer {token}"}) as r:
                    answer = await r.json()
                    assert r.status == 202, f"{portal.name} answered {r.status}: {answer}"
                dossiers.append(str(answer["dossier_id"]))
        return f"{len(dossiers)} dossiers"

    async def _known(self, dashboard: str, dossiers: list[str]) -> str:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            for dossier in dossiers:
                while True:
                    async with http.get(f"{dashboard}/api/v1/dossiers/{dossier}") as r:
                        if r.status == 200:
                            break
                    await asyncio.sleep(1.0)
        return f"{len(dossiers)} of {len(dossiers)}"

    async def _open(self, dashboard: str, token: str, dossier: str) -> str:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
            http.post(f"{dashboard}/api/v1/dossiers/{dossier}/open", json={"operator": OPERATOR}, headers=headers) as r,
        ):
            answer = await r.json()
        assert r.status == 200, f"the console answered {r.status}: {answer}"
        assert answer["masked"] is False, "the portal masked the people: it holds another operator token"
        return f"{len(answer['people'])} people in full"

    async def _redrive(self, dashboard: str, token: str, dossier: str) -> str:
        """One redrive, asked of every agency: the one holding the dossier's message checks the
        signature with the console's token and queues it again. Asked once: the console's first
        answer must hold (an asker that missed answers once passed only when asked again)."""
        headers = {"Authorization": f"Bearer {token}"}
        body = {"dossier_id": dossier, "operator": OPERATOR}
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http,
            http.post(f"{dashboard}/api/v1/redrive", json=body, headers=headers) as r,
        ):
            answer = await r.json()
        assert r.status == 202, f"the console answered {r.status}: {answer}"
        assert answer["queued"] >= 1, f"no agency queued the dossier's message again: {answer}"
        return f"{answer['queued']} messages queued again"

    async def _volumes(self) -> str:
        found = []
        for c in self.containers:
            if family(c.image) == "apache/kafka":
                meta = Path(c.local_env["KAFKA_LOG_DIRS"]) / "meta.properties"
                assert meta.exists(), f"{c.name}: no meta.properties in its volume"
                assert f"cluster.id={c.env['CLUSTER_ID']}" in meta.read_text(), f"{c.name}: another cluster id"
                found.append(c.name)
            if family(c.image) == "postgres":
                assert (c.local_path(c.env.get("PGDATA", "/var/lib/postgresql/data")) / "PG_VERSION").exists()
                found.append(c.name)
        assert found, "no data volume found"
        return ", ".join(found)

    # --- teardown ------------------------------------------------------------------------------

    def _down(self) -> None:
        ours = [s for s in self.started if s.process and s.container.ours]
        theirs = [s for s in self.started if s.process and not s.container.ours]
        for group in (ours, theirs):
            for s in group:
                assert s.process is not None
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    s.process.send_signal(signal.SIGTERM)
            for s in group:
                assert s.process is not None
                embedded.stop_pid(s.process.pid, timeout=20)
                s.process.poll()
