"""Prometheus and Alertmanager beside a stack, on the shipped rules and route (deploy/prometheus/):
what `lienthong up --alerting` (or LT_ALERTING=1) starts, so that alerts reach people through
the parts an ops team already runs.

The shipped files are examples a province loads into its own monitoring (docs/operations.md).
Here they are copied into `$LT_HOME/alerting/` with this stack's addresses filled in: every
process's `/metrics` as a scrape target, the receivers from LT_ALERT_WEBHOOK_URL and
LT_ALERT_SMTP, the intervals from LT_ALERT_INTERVAL_S and LT_ALERT_GROUP_WAIT_S. The rules' `for:`
durations are written against the shipped 15 s interval; a stack that scrapes more often waits the
same number of scrapes (`rules_config`). Both programs
are Debian's packages (`prometheus`, `prometheus-alertmanager`) and listen on 127.0.0.1 only."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

from contracts.jsontypes import JsonObject, JsonValue, arr, load_object, obj
from contracts.topics import AGENCY_VI
from deploy.embedded import free_port, pid_alive, stop_pid
from deploy.processes import process_of
from deploy.state import AlertingRecord, ServerRecord

SHIPPED = Path(__file__).resolve().parent / "prometheus"
PROMETHEUS = "prometheus"
ALERTMANAGER = "prometheus-alertmanager"
READY_S = 60.0
SHIPPED_INTERVAL_S = 15.0
"""The scrape and evaluation interval of the shipped prometheus.yml."""
DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


class AlertingUnavailable(RuntimeError):
    """Prometheus or Alertmanager is not installed."""


@dataclass(frozen=True)
class Plan:
    """What the two programs are told: intervals, receivers and the labels of every alert."""

    interval_s: float = 15.0
    group_wait_s: float = 30.0
    group_interval_s: float = 300.0
    webhook_url: str = ""
    smtp: str = ""
    mail_to: str = "truc-ban@localhost"
    province: str = ""
    console_url: str = ""


def prometheus_config(services: dict[str, int], alertmanager_port: int, plan: Plan) -> JsonObject:
    """The shipped prometheus.yml with this stack's targets: the monitor as job
    `lienthong-monitor` (the rule `LienthongMonitorDown` watches it), every other process under
    `lienthong-services`, each labelled with its process name."""
    shipped = SHIPPED / "prometheus.yml"
    config = load_object(shipped.read_text(encoding="utf-8"), str(shipped))
    every = f"{max(1, round(plan.interval_s))}s"
    glob = obj(config["global"])
    glob.update(scrape_interval=every, evaluation_interval=every)
    labels = {"province": plan.province, "console_url": plan.console_url.rstrip("/")}
    glob["external_labels"] = {k: v for k, v in labels.items() if v}
    config["rule_files"] = [RULES]  # beside this file: the rules `rules_config` scaled
    obj(config["alerting"])["alertmanagers"] = [{"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}]

    def job(name: str, members: dict[str, int]) -> JsonObject:
        targets: list[JsonValue] = [
            {
                "targets": [f"127.0.0.1:{port}"],
                "labels": {
                    "process": n,
                    "service": process_of(n),
                    "service_vi": AGENCY_VI.get(process_of(n), process_of(n)),
                },
            }
            for n, port in sorted(members.items())
        ]
        return {"job_name": name, "static_configs": targets}

    monitors = {n: p for n, p in services.items() if process_of(n) == "monitor"}
    others = {n: p for n, p in services.items() if process_of(n) != "monitor"}
    config["scrape_configs"] = [job("lienthong-monitor", monitors), job("lienthong-services", others)]
    return config


RULES = "rules.yml"


def seconds_of(duration: str) -> float:
    """A Prometheus duration (`1m`, `1h30m`, `500ms`) in seconds; refused when it is not one."""
    parts = DURATION.findall(duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        raise ValueError(f"not a Prometheus duration: {duration!r}")
    return sum(int(n) * UNIT_S[u] for n, u in parts)


def rules_config(plan: Plan) -> JsonObject:
    """The shipped rules.yml with every `for:` scaled by this stack's interval against the shipped
    15 s: a rule that pages after a minute of a process not answering (four failed scrapes) pages
    a stack that scrapes every 2 s after 8 s, the same four scrapes. Nothing else changes."""
    shipped = SHIPPED / RULES
    config = load_object(shipped.read_text(encoding="utf-8"), str(shipped))
    scale = max(1.0, round(plan.interval_s)) / SHIPPED_INTERVAL_S
    for group in arr(config["groups"]):
        for rule in arr(obj(group)["rules"]):
            one = obj(rule)
            if isinstance(waits := one.get("for"), str):
                one["for"] = f"{max(1, round(seconds_of(waits) * scale))}s"
    return config


def alertmanager_config(plan: Plan) -> JsonObject:
    """The shipped alertmanager.yml (its routes, grouping and inhibitions as they are) with this
    stack's receivers: the webhook and the mail relay, each left out when unset."""
    shipped = SHIPPED / "alertmanager.yml"
    config = load_object(shipped.read_text(encoding="utf-8"), str(shipped))
    wait = f"{max(1, round(plan.group_wait_s))}s"
    webhook_url, smtp = plan.webhook_url, plan.smtp
    route = obj(config["route"])
    route["group_wait"] = wait
    route["group_interval"] = f"{max(1, round(plan.group_interval_s))}s"
    for child in arr(route.get("routes", [])):
        obj(child).pop("group_wait", None)  # one wait for every route: the one this stack asked for
    glob = obj(config["global"])
    if smtp:
        glob["smtp_smarthost"] = smtp
    else:
        for name in ("smtp_smarthost", "smtp_from", "smtp_require_tls"):
            glob.pop(name, None)
    receivers: list[JsonValue] = []
    for receiver in arr(config["receivers"]):
        shipped_receiver = obj(receiver)
        made = copy.deepcopy(shipped_receiver)
        made.pop("webhook_configs", None)
        made.pop("email_configs", None)
        if webhook_url:
            hooks = arr(shipped_receiver.get("webhook_configs", []))
            made["webhook_configs"] = [{**obj(c), "url": webhook_url} for c in hooks]
        if smtp:
            mails = arr(shipped_receiver.get("email_configs", []))
            made["email_configs"] = [{**obj(c), "to": plan.mail_to} for c in mails]
        receivers.append({k: v for k, v in made.items() if v != []})
    config["receivers"] = receivers
    return config


BASE = "alertmanager.base.yml"


def base_config(folder: Path) -> JsonObject:
    """The Alertmanager configuration `start` wrote, before any officer's subscription."""
    return load_object((folder / BASE).read_text(encoding="utf-8"), str(folder / BASE))


def reload(folder: Path, port: int, config: JsonObject) -> None:
    """Replace the running Alertmanager's configuration and have it read it again (its
    `/-/reload`); on a refusal the previous file is put back, and the reason raised."""
    path = folder / "alertmanager.yml"
    before = path.read_text(encoding="utf-8")
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    request = urllib.request.Request(f"http://127.0.0.1:{port}/-/reload", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            if r.status == 200:
                return
            reason = f"status {r.status}"
    except OSError as exc:
        reason = str(getattr(exc, "read", lambda: b"")().decode(errors="replace") or exc)
    path.write_text(before, encoding="utf-8")
    raise RuntimeError(f"Alertmanager refused the configuration: {reason}")


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise AlertingUnavailable(
            f"{name} is not installed: `apt-get install prometheus prometheus-alertmanager` (Debian's packages), "
            "or leave --alerting out"
        )
    return found


def start(home: Path, services: dict[str, int], plan: Plan) -> AlertingRecord:
    """Write the two configurations and start both programs; their pids, ports and folder."""
    prometheus_bin, alertmanager_bin = _binary(PROMETHEUS), _binary(ALERTMANAGER)
    folder = home / "alerting"
    folder.mkdir(parents=True, exist_ok=True)
    am_port = free_port(avoid=set(services.values()))
    prom_port = free_port(avoid={*services.values(), am_port})
    am, prom = alertmanager_config(plan), prometheus_config(services, am_port, plan)
    # The configuration as started, before any officer's subscription (the console adds those).
    (folder / BASE).write_text(yaml.safe_dump(am, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (folder / "alertmanager.yml").write_text(yaml.safe_dump(am, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (folder / "prometheus.yml").write_text(yaml.safe_dump(prom, allow_unicode=True, sort_keys=False), encoding="utf-8")
    rules = yaml.safe_dump(rules_config(plan), allow_unicode=True, sort_keys=False, width=200)
    (folder / RULES).write_text(rules, encoding="utf-8")
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    servers: dict[str, ServerRecord] = {}
    commands = {
        "alertmanager": (
            am_port,
            [
                alertmanager_bin,
                f"--config.file={folder / 'alertmanager.yml'}",
                f"--storage.path={folder / 'alertmanager-data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",  # one instance: no gossip port
            ],
        ),
        "prometheus": (
            prom_port,
            [
                prometheus_bin,
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
                "--storage.tsdb.retention.time=2d",
            ],
        ),
    }
    for name, (port, argv) in commands.items():
        with open(logs / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        servers[name] = {"pid": proc.pid, "port": port, "_process": proc}
    for name, (port, _) in commands.items():
        _wait_ready(name, port, servers[name]["pid"], logs / f"{name}.log")
    return {"folder": str(folder), "alertmanager": servers["alertmanager"], "prometheus": servers["prometheus"]}


def _wait_ready(name: str, port: int, pid: int, log: Path) -> None:
    ends = time.monotonic() + READY_S
    while time.monotonic() < ends:
        if not pid_alive(pid):
            tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] if log.exists() else []
            raise RuntimeError(f"{name} stopped at start: {tail[0] if tail else 'no log'} (log {log})")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{name} not ready on 127.0.0.1:{port} after {READY_S:g} s (log {log})")


def stop(started: AlertingRecord) -> None:
    """Stop both (by pid: a later command finds them in stack.json); reap them if this process
    started them."""
    for one in (started.get("prometheus", {}), started.get("alertmanager", {})):
        if one.get("pid"):
            stop_pid(one["pid"])
        handle = one.get("_process")
        if handle is not None:
            handle.wait()
