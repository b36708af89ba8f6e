"""An integrator's own residence system, standing in for the `cutru` simulator.

Written only against the exported contract (`lienthong contract export`): it imports nothing
from this project and talks to the broker with another client (confluent-kafka / librdkafka).
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
from confluent_kafka import Consumer, Producer


class StandInResidence:
    def __init__(self, contract_dir: Path, bootstrap: str, prefix: str) -> None:
        schemas = {p.stem: json.loads(p.read_text()) for p in (contract_dir / "schemas").glob("*.json")}
        self.validators = {name: jsonschema.Draft202012Validator(s) for name, s in schemas.items()}
        self.prefix = prefix
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"{prefix}.standin-cutru",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": False})
        self.registered: dict[str, str] = {}
        self.stop = threading.Event()

    def event(self, type_: str, received: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        doc = {
            "schema_version": 1,
            "event_id": str(uuid.uuid4()),
            "dossier_id": received["dossier_id"],
            "chain": received["chain"],
            "type": type_,
            "agency": "cutru",
            "step": received["payload"]["to_step"],
            "occurred_at": datetime.now(UTC).isoformat(),
            "attempt": 1,
            "trace_id": received["trace_id"],
            "payload": payload,
        }
        self.validators[type_].validate(doc)  # we only send what the contract allows
        return doc

    def send(self, topic: str, doc: dict[str, Any]) -> None:
        self.producer.produce(topic, json.dumps(doc).encode(), key=doc["dossier_id"].encode())

    def handle(self, msg: dict[str, Any]) -> None:
        self.validators["handoff.sent"].validate(msg)
        p = msg["payload"]
        personal_id = p["results"]["register_birth"]["personal_id"]
        self.registered[msg["dossier_id"]] = personal_id
        events = f"{self.prefix}.dossier-events"
        self.send(
            events, self.event("handoff.received", msg, {"from": msg["agency"], "sent_event_id": msg["event_id"]})
        )
        self.send(events, self.event("step.started", msg, {}))
        result = {"personal_id": personal_id, "registered_at": datetime.now(UTC).isoformat()}
        self.send(events, self.event("step.completed", msg, {"result": result}))
        for route in p["next"] or [{"agency": "portal", "step": "result"}]:
            handoff = self.event(
                "handoff.sent",
                msg,
                {
                    "to": route["agency"],
                    "to_step": route["step"],
                    "dossier": p["dossier"],
                    "results": {**p["results"], p["to_step"]: result},
                    "next": [],
                    "outcome": "completed",
                },
            )
            self.send(f"{self.prefix}.work.{route['agency']}", handoff)
            slim = {
                **handoff,
                "payload": {k: v for k, v in handoff["payload"].items() if k not in ("dossier", "results")},
            }
            self.send(events, slim)
        self.producer.flush(10)

    def run(self) -> None:
        self.consumer.subscribe([f"{self.prefix}.work.cutru"])
        try:
            while not self.stop.is_set():
                msg = self.consumer.poll(0.2)
                if msg is None or msg.error():
                    continue
                self.handle(json.loads(msg.value()))
                self.consumer.commit(msg, asynchronous=False)
        finally:
            self.consumer.close()
