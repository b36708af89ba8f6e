"""Regression: in `make test` the compose check's PostgreSQL would not start: its Unix socket,
under the test's deep work folder, had a name longer than the 107 bytes a socket's name may have
("could not create any Unix-domain sockets"). The stand-in now listens on TCP alone, so it comes
up and passes the compose file's own healthcheck wherever the work folder lies."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from deploy import compose_images as images
from deploy import embedded
from deploy.compose_check import COMPOSE, dockerfile_of, secrets_for_the_check
from deploy.compose_file import read_dockerfile
from deploy.compose_plan import plan

pytestmark = pytest.mark.integration


def test_the_postgres_stand_in_starts_under_a_work_folder_deeper_than_a_socket_name(tmp_path: Path) -> None:
    workdir = tmp_path / ("deep-" * 12) / "compose"
    built = read_dockerfile(dockerfile_of(COMPOSE).read_text(encoding="utf-8"))
    postgres = next(
        c for c in plan(COMPOSE, secrets_for_the_check(), workdir, built, embedded.free_port) if c.service == "postgres"
    )
    assert len(str(postgres.local_path("/var/run/postgresql/.s.PGSQL.5432"))) > 107
    started = images.start(postgres, built, workdir / "logs")
    assert started.process is not None
    try:
        probe = images.health_command(postgres, built)
        assert probe is not None
        argv, env = probe
        assert subprocess.run(argv, env=env, capture_output=True, check=False).returncode == 0
        url = f"postgresql://lienthong:{postgres.env['POSTGRES_PASSWORD']}@127.0.0.1:{postgres.ports[5432]}/lienthong"
        assert asyncio.run(_one(url)) == 1  # the image's POSTGRES_DB, reached with its password
    finally:
        embedded.stop_pid(started.process.pid, timeout=20)
        started.process.poll()  # stop_pid reaped it: the handle learns so and does not warn


async def _one(url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=10)
    try:
        return int(await conn.fetchval("SELECT 1"))
    finally:
        await conn.close()
