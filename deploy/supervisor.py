"""Keeps the agency processes running: starts each, restarts it when it dies, stops them all.

Run detached by `lienthong up` as `python -m deploy.supervisor`. It reads the desired services
from `$LT_HOME/services.json` (re-read on SIGHUP) and writes what runs to
`$LT_HOME/supervisor.json`. SIGTERM stops every child, then the supervisor.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from deploy import prefork
from deploy.embedded import stop_pid
from deploy.state import StackState

PORT_VARIABLE = {"services.portal": "LT_PORTAL_PORT", "dashboard": "LT_DASHBOARD_PORT"}
"""The variable that tells a child (by module) its port (the rest read LT_SERVICE_PORT)."""
BACKOFF_MAX_S = 10.0


@dataclass
class Child:
    name: str
    port: int
    proc: subprocess.Popen[bytes] | prefork.Forked | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = 0.0
    backoff: float = 0.5
    last_exit: int | None = None


@dataclass
class Supervisor:
    home: Path
    children: dict[str, Child] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)
    stopping: bool = False
    reload: bool = True
    fork: bool = False
    """Start children as forks of this process, which imported their libraries (deploy/prefork.py)."""

    def reconcile(self) -> None:
        spec = StackState(self.home).services()
        self.env = spec.get("env", {})
        self.modules = spec.get("modules", {})
        wanted = {name: int(port) for name, port in spec.get("services", {}).items()}
        for name in [n for n in self.children if n not in wanted]:
            self.stop_child(self.children.pop(name))
        for name, port in wanted.items():
            child = self.children.get(name)
            if child is None or child.port != port:
                if child:
                    self.stop_child(child)
                self.children[name] = Child(name, port)

    def start_child(self, child: Child) -> None:
        env = {**os.environ, **self.env}
        module = self.modules.get(child.name, f"services.{child.name}")
        env[PORT_VARIABLE.get(module, "LT_SERVICE_PORT")] = str(child.port)
        env["LT_INSTANCE"] = child.name  # `hotich-2`: a replica's name in logs and client ids
        env.setdefault("LT_LOG_FORMAT", "json")
        if self.fork:
            child.proc = prefork.spawn(module, env, self.home / "logs" / f"{child.name}.log")
            child.started_at = time.time()
            return
        with open(self.home / "logs" / f"{child.name}.log", "ab") as log:
            child.proc = subprocess.Popen(
                [sys.executable, "-m", module],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        child.started_at = time.time()

    def stop_child(self, child: Child) -> None:
        if child.proc and child.proc.poll() is None:
            stop_pid(child.proc.pid, signal.SIGTERM, timeout=10)
            child.proc.wait()

    def tick(self) -> None:
        now = time.monotonic()
        for child in self.children.values():
            if child.proc is not None and child.proc.poll() is not None:
                child.last_exit = child.proc.returncode
                child.proc = None
                child.restarts += 1
                child.next_start = now + child.backoff
                child.backoff = min(child.backoff * 2, BACKOFF_MAX_S)
            if child.proc is None and now >= child.next_start:
                self.start_child(child)
            elif child.proc is not None and time.time() - child.started_at > 30:
                child.backoff = 0.5  # it stayed up: forget earlier crashes
        self.write_state()

    def write_state(self) -> None:
        StackState(self.home).save_supervisor(
            {
                "pid": os.getpid(),
                "services": {
                    c.name: {
                        "pid": c.proc.pid if c.proc else None,
                        "port": c.port,
                        "restarts": c.restarts,
                        "last_exit": c.last_exit,
                    }
                    for c in self.children.values()
                },
            }
        )

    def run(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stopping", True))
        signal.signal(signal.SIGINT, lambda *_: setattr(self, "stopping", True))
        signal.signal(signal.SIGHUP, lambda *_: setattr(self, "reload", True))
        while not self.stopping:
            if self.reload:
                self.reload = False
                self.reconcile()
            self.tick()
            time.sleep(0.2)
        # Signal every child first, then wait: they shut down in parallel.
        running = [c for c in self.children.values() if c.proc and c.proc.poll() is None]
        for child in running:
            assert child.proc is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.proc.pid, signal.SIGTERM)
        for child in running:
            self.stop_child(child)
        StackState(self.home).forget_supervisor()


if __name__ == "__main__":
    fork = prefork.enabled()
    if fork:
        prefork.preload()
    Supervisor(Path(os.environ.get("LT_HOME", ".lienthong")).resolve(), fork=fork).run()
