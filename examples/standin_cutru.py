"""An integrator's own residence system (cutru), standing in for the project's simulator.

Written only against what `lienthong contract export` writes (schemas/, chains.json,
contract.md) and the stack's stack.json, with another Kafka client than the project's
(confluent-kafka, i.e. librdkafka). It imports nothing from the project. docs/integrating.md
walks through it.

    python examples/standin_cutru.py --contract contract/ --home ~/.lienthong [--break RULE]

`--break` makes it break one rule of the contract on purpose, to see `lienthong conformance
cutru` name it: partitioner (CRC32, librdkafka's default), sequence (no step.started),
idempotence (a redelivered handoff is processed again), stamping (events stamped 30 real seconds
late), heartbeat (none sent); and drop: every second dossier is received and never finished (a
run then ends with those dossiers unfinished). The switch is read at every message (`StandInResidence.broken`),
so a test can change it on a running stand-in.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
from confluent_kafka import Consumer, Producer

AGENCY = "cutru"
BREAKS = ("partitioner", "sequence", "idempotence", "stamping", "heartbeat", "drop")
COMMAND_HEADER = "lienthong-command"
PRIMER_HEADER = "lienthong-primer"
LATE_S = 30.0
"""How far behind the clock the `stamping` break stamps (the contract allows LT_SIM_MAX_LAG_S, 5 s)."""


class SimClock:
    """Sim time from the stack's clock file (contract.md, rule "clock"), read again when it changes."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._stamp: tuple[float, int] | None = None
        self._segments: list[tuple[float, datetime, float]] = []

    def _file(self) -> Path:
        stack = json.loads((self.home / "stack.json").read_text(encoding="utf-8"))
        return Path(stack["clock"]["sim_clock_file"])

    def _reload(self) -> None:
        path = self._file()
        st = path.stat()
        if (st.st_mtime, st.st_size) == self._stamp:
            return
        doc = json.loads(path.read_text(encoding="utf-8"))
        self._segments = [(s["anchor"], datetime.fromisoformat(s["epoch"]), s["speed"]) for s in doc["segments"]]
        self._stamp = (st.st_mtime, st.st_size)

    def at(self, real: float) -> datetime:
        self._reload()
        usable = [s for s in self._segments if s[0] <= real] or self._segments[:1]
        anchor, epoch, speed = usable[-1]
        return epoch + timedelta(seconds=(real - anchor) * speed)

    def now(self) -> datetime:
        return self.at(time.time())


class Chains:
    """Routing from chains.json (contract.md, rule "routing")."""

    def __init__(self, path: Path) -> None:
        self.chains = json.loads(path.read_text(encoding="utf-8"))

    def next_routes(self, chain: str, step: str, procedures: list[str]) -> list[dict[str, str]]:
        following = [
            {"agency": s["agency"], "step": s["name"]}
            for s in self.chains[chain]["steps"]
            if s["after"] == step
            and (s["procedure"] is None or s["procedure"] in procedures)
            and (s.get("skipped_by") is None or s["skipped_by"] not in procedures)
        ]
        return following or [{"agency": "portal", "step": "result"}]


class StandInResidence:
    def __init__(
        self,
        contract_dir: Path,
        bootstrap: str,
        prefix: str,
        home: Path,
        broken: str | None = None,
        security: dict[str, str] | None = None,
    ) -> None:
        if broken is not None and broken not in BREAKS:
            raise ValueError(f"--break must be one of {', '.join(BREAKS)}")
        schemas = {p.stem: json.loads(p.read_text()) for p in (contract_dir / "schemas").glob("*.json")}
        self.validators = {name: jsonschema.Draft202012Validator(s) for name, s in schemas.items()}
        self.chains = Chains(contract_dir / "chains.json")
        self.clock = SimClock(home)
        self.prefix = prefix
        self.broken = broken
        # On a secured cluster, residence's principal: its group is named after it (the ACLs).
        secured = security or {}
        self.consumer = Consumer(
            {
                **secured,
                "bootstrap.servers": bootstrap,
                "group.id": f"{prefix}.cutru-standin",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        # The contract's partitioner is murmur2; librdkafka's default (CRC32) would put a
        # dossier's events on another partition than everyone else's (contract.md, "partitioner").
        self.producer = Producer(
            {**secured, "bootstrap.servers": bootstrap, "acks": "all", "partitioner": "murmur2_random"}
        )
        self.crc32 = Producer(
            {**secured, "bootstrap.servers": bootstrap, "acks": "all", "partitioner": "consistent_random"}
        )
        self.registered: dict[str, str] = {}
        self.taken: dict[str, list[tuple[str, bytes, bytes]]] = {}
        """Inbox: each work message taken, by event id, with what it made us send (for redelivery and redrive)."""
        self.sent_at: dict[str, float] = {}
        self.stop = threading.Event()
        self.instance = f"{os.uname().nodename}:{os.getpid()}:standin"

    # -- sending ---------------------------------------------------------------------------

    def stamp(self) -> str:
        now = time.time() - (LATE_S if self.broken == "stamping" else 0.0)
        return self.clock.at(now).isoformat()

    def event(self, type_: str, received: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        doc = {
            "schema_version": 1,
            "event_id": str(uuid.uuid4()),
            "dossier_id": received["dossier_id"],
            "chain": received["chain"],
            "type": type_,
            "agency": AGENCY,
            "step": received["payload"]["to_step"],
            "occurred_at": self.stamp(),
            "attempt": 1,
            "trace_id": received["trace_id"],
            "payload": payload,
        }
        self.validators[type_].validate(doc)  # only what the contract allows goes out
        return doc

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        producer = self.crc32 if self.broken == "partitioner" else self.producer
        producer.produce(topic, value, key=key)
        producer.poll(0)

    # -- taking work -----------------------------------------------------------------------

    def handle(self, msg: dict[str, Any]) -> list[tuple[str, bytes, bytes]]:
        """What one handoff makes us send: (topic, key, value) in order."""
        self.validators["handoff.sent"].validate(msg)
        events = f"{self.prefix}.dossier-events"
        p = msg["payload"]
        key = msg["dossier_id"].encode()
        out: list[dict[str, Any]] = [
            self.event("handoff.received", msg, {"from": msg["agency"], "sent_event_id": msg["event_id"]})
        ]
        if self.broken != "sequence":
            out.append(self.event("step.started", msg, {}))
        personal_id = (
            p.get("results", {}).get("register_birth") or p.get("results", {}).get("register_death") or {}
        ).get("personal_id")
        sends: list[tuple[str, bytes, bytes]] = []
        if personal_id:
            result: dict[str, Any] = {"personal_id": personal_id}
            if p["to_step"] == "register_residence":
                result["registered_at"] = self.stamp()
                self.registered[msg["dossier_id"]] = personal_id
            out.append(self.event("step.completed", msg, {"result": result}))
            extra: dict[str, Any] = {"outcome": "completed"}
            results = {**p.get("results", {}), p["to_step"]: result}
            routes = p["next"]
        else:
            reason = "no personal ID number from civil status"
            out.append(self.event("step.rejected", msg, {"reason": reason, "code": "missing_upstream_result"}))
            extra = {"outcome": "rejected", "reason": reason, "code": "missing_upstream_result"}
            results = p.get("results", {})
            routes = [{"agency": "portal", "step": "result"}]
        sends += [(events, key, json.dumps(e).encode()) for e in out]
        procedures = list(p.get("dossier", {}).get("procedures", []))
        for route in routes:
            handoff = self.event(
                "handoff.sent",
                msg,
                {
                    "to": route["agency"],
                    "to_step": route["step"],
                    "dossier": p.get("dossier", {}),
                    "results": results,
                    "next": []
                    if route["agency"] == "portal"
                    else self.chains.next_routes(msg["chain"], route["step"], procedures),
                    **extra,
                },
            )
            # The event-topic copy keeps the event id and the routing, without personal data.
            slim = {
                **handoff,
                "payload": {k: v for k, v in handoff["payload"].items() if k not in ("dossier", "results")},
            }
            sends.append((f"{self.prefix}.work.{route['agency']}", key, json.dumps(handoff).encode()))
            sends.append((events, key, json.dumps(slim).encode()))
        return sends

    def take(self, raw: bytes) -> None:
        msg = json.loads(raw)
        earlier = self.taken.get(msg["event_id"])
        if earlier is not None and self.broken != "idempotence":
            return  # taken before: nothing happens twice (contract.md, rule "idempotence")
        sends = self.handle(msg)
        if self.broken == "drop" and len(self.taken) % 2:
            sends = sends[:1]  # received, then nothing: the dossier waits here for ever
        self.taken[msg["event_id"]] = sends
        now = time.time()
        for topic, key, value in sends:
            self.sent_at[json.loads(value)["event_id"]] = now
            self.send(topic, key, value)
        self.flush()

    def flush(self) -> None:
        self.producer.flush(10)
        self.crc32.flush(10)

    def obey(self, raw: bytes) -> None:
        """An admin command: publish the selected messages again, then answer (rule "commands")."""
        command = json.loads(raw)
        if command.get("agency") != AGENCY:
            return
        everything = [s for sends in self.taken.values() for s in sends]
        if command.get("dossier_id"):
            chosen = [s for s in everything if s[1] == command["dossier_id"].encode() and ".work." in s[0]]
        elif command.get("messages"):
            wanted = {(m["event_id"], m.get("topic")) for m in command["messages"]}
            chosen = [
                s for s in everything if any(json.loads(s[2])["event_id"] == e and t in (None, s[0]) for e, t in wanted)
            ]
        else:
            since = float(command.get("sent_since", 0))
            chosen = [s for s in everything if self.sent_at.get(json.loads(s[2])["event_id"], 0) >= since]
        for topic, key, value in chosen:
            self.send(topic, key, value)
        done = {"command_id": command["command_id"], "agency": AGENCY, "queued": len(chosen), "missing": []}
        self.send(f"{self.prefix}.admin-replies", command["command_id"].encode(), json.dumps(done).encode())
        self.flush()

    # -- liveness ----------------------------------------------------------------------------

    def beat(self) -> None:
        seq = 0
        while not self.stop.wait(1.0):
            if self.broken == "heartbeat":
                continue
            doc = {
                "schema_version": 1,
                "event_id": str(uuid.uuid4()),
                "dossier_id": None,
                "chain": None,
                "type": "agency.heartbeat",
                "agency": AGENCY,
                "step": None,
                "occurred_at": self.stamp(),
                "attempt": 1,
                "trace_id": str(uuid.uuid4()),
                "payload": {"seq": seq, "instance": self.instance},
            }
            self.send(f"{self.prefix}.dossier-events", AGENCY.encode(), json.dumps(doc).encode())
            seq += 1

    def run(self) -> None:
        beating = threading.Thread(target=self.beat, daemon=True)
        beating.start()
        self.consumer.subscribe([f"{self.prefix}.work.{AGENCY}"])
        try:
            while not self.stop.is_set():
                msg = self.consumer.poll(0.2)
                if msg is None or msg.error():
                    continue
                headers = dict(msg.headers() or [])
                if PRIMER_HEADER in headers:
                    pass
                elif COMMAND_HEADER in headers:
                    self.obey(msg.value())
                else:
                    self.take(msg.value())
                self.consumer.commit(msg, asynchronous=False)
        finally:
            self.stop.set()
            self.consumer.close()
            self.flush()


def librdkafka_security(stack: dict[str, str]) -> dict[str, str]:
    """librdkafka's settings for residence's principal on the stack's secured Kafka cluster (none
    on a plain-text broker): TLS checked against the stack's CA, SASL/SCRAM with cutru's password."""
    if stack.get("kafka_security_protocol") != "SASL_SSL":
        return {}
    password = (Path(stack["kafka_secrets_dir"]) / "cutru.password").read_text(encoding="utf-8").strip()
    return {
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "SCRAM-SHA-512",
        "sasl.username": "cutru",
        "sasl.password": password,
        "ssl.ca.location": stack["kafka_ca_file"],
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--contract", type=Path, required=True, help="the folder `lienthong contract export` wrote")
    p.add_argument("--home", type=Path, default=Path(os.environ.get("LT_HOME", ".lienthong")), help="the stack's home")
    p.add_argument("--prefix", default="lt", help="topic prefix (LT_TOPIC_PREFIX)")
    p.add_argument("--break", dest="broken", choices=BREAKS, help="break this rule on purpose")
    args = p.parse_args(argv)
    stack = json.loads((args.home / "stack.json").read_text(encoding="utf-8"))
    standin = StandInResidence(
        args.contract, stack["kafka_bootstrap"], args.prefix, args.home, args.broken, librdkafka_security(stack)
    )
    print(f"cutru stand-in on {stack['kafka_bootstrap']}" + (f", breaking {args.broken}" if args.broken else ""))
    # Leave the consumer group on the way out, or the group waits for the session to time out
    # (45 s with librdkafka's defaults) before a restarted stand-in gets its partitions.
    signal.signal(signal.SIGTERM, lambda *_: standin.stop.set())
    signal.signal(signal.SIGINT, lambda *_: standin.stop.set())
    standin.run()


if __name__ == "__main__":
    main()
