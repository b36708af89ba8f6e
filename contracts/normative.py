"""The contract's rules in words: what every agency's system MUST do for the others and the
monitor to work, beyond what the JSON Schemas say.

Each statement has a stable id; `lienthong contract export` writes them to `contract.md` and
into the AsyncAPI document (`x-lienthong-rules`), and `lienthong conformance` names the
statement each of its checks holds a system to. MUST, MUST NOT and MAY are meant as in RFC 2119.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.commands import COMMAND_HEADER, SIGNATURE_HEADER
from contracts.envelope import MAX_EVENT_BYTES
from contracts.partitioning import SEED
from contracts.topics import PRIMER_HEADER


@dataclass(frozen=True)
class Statement:
    id: str
    topic: str
    text: str


STATEMENTS: tuple[Statement, ...] = (
    # Keys and partitions
    Statement(
        "key",
        "Keys and partitions",
        "Every message about a dossier MUST be keyed by its `dossier_id` (UTF-8 bytes), on the event "
        "topic and on the work topics alike. An `agency.heartbeat` is keyed by the agency's name.",
    ),
    Statement(
        "partitioner",
        "Keys and partitions",
        "The partition MUST be `(murmur2(key) & 0x7fffffff) % partitions`, Kafka's murmur2 with seed "
        f"0x{SEED:08x} as in the Java client's default partitioner. aiokafka's and the Java client's "
        "defaults comply; with librdkafka (confluent-kafka) set `partitioner: murmur2_random`, whose "
        "default (CRC32) puts a dossier's events on another partition than everyone else's. The monitor "
        "keeps a dossier's state on the partition its events arrive on: events of one dossier on two "
        "partitions are judged apart and read as lost handoffs.",
    ),
    # Ordering, delivery, retries
    Statement(
        "order",
        "Ordering and delivery",
        "For one dossier, an agency MUST publish its events in the order they happened (per partition, "
        "Kafka keeps that order). Across agencies no order is promised: a receiver's receipt may reach "
        "the event topic before the sender's `handoff.sent`, and the monitor judges both by `occurred_at`.",
    ),
    Statement(
        "at-least-once",
        "Ordering and delivery",
        "Delivery is at least once. A producer MUST send with `acks=all` and retry until acknowledged; a "
        "consumer MUST commit a work message's offset only after its effects are stored. A message MAY "
        "therefore arrive twice, with the same `event_id`.",
    ),
    Statement(
        "idempotence",
        "Ordering and delivery",
        "A work message read again (same `event_id`) MUST NOT repeat any effect: no second registration, "
        "card or payment, no second `step.completed` or `handoff.sent`. Publishing its earlier events again "
        "with their original `event_id` is allowed.",
    ),
    Statement(
        "event-id",
        "Ordering and delivery",
        "Every event has a fresh UUID `event_id`, except copies: the event-topic copy of a `handoff.sent` "
        "(without `dossier` and `results`) MUST keep the work message's `event_id`, `occurred_at`, "
        "`trace_id` and routing fields (`to`, `to_step`, `next`, `outcome`, `reason`, `code`, `via`), and "
        "a message published again (retry, redrive, replay) MUST keep its `event_id`.",
    ),
    # Lifecycle of a step
    Statement(
        "sequence",
        "A step's lifecycle",
        "For each work message it takes, the receiving agency MUST publish on the event topic, in this "
        "order: `handoff.received` (payload `from`, `sent_event_id`), `step.started`, zero or more "
        "`step.state` (one per intermediate state the chain declares for the step), then exactly one of "
        "`step.completed` (payload `result`) or `step.rejected` (payload `reason`, optional `code`), then "
        "one `handoff.sent` per route it sends the dossier on.",
    ),
    Statement(
        "results",
        "A step's lifecycle",
        "`step.completed`'s `result` MUST carry the fields the chain declares for the step (`result` in "
        "chains.json, e.g. `personal_id` of 12 digits for `register_birth`); more fields MAY follow.",
    ),
    Statement(
        "routing",
        "A step's lifecycle",
        "A work message's `next` lists where the dossier goes once the step completes. For an agency's step "
        "it is never empty: after the last step it holds the portal's result route `{agency: portal, step: "
        "result}`. A handoff to the portal's result route itself carries `next: []` (nothing follows it). On "
        "completion the agency MUST send one `handoff.sent` per entry of `next`, each to that agency's work "
        "topic with `to`/`to_step` from the entry, `outcome: completed`, the received `dossier`, the "
        "received `results` plus its own under its step's name, and `next` for the receiving step from "
        "chains.json (the steps whose `after` is that step and whose `procedure` the dossier chose, or the "
        "portal's result route when none). On refusal it MUST send one `handoff.sent` to the portal's "
        "result route with `outcome: rejected`, `reason` and, if any, `code`.",
    ),
    Statement(
        "sla",
        "A step's lifecycle",
        "Each step has `sla_working_days`, and `sla_with_verification` where a dossier that needs "
        "verification gets longer; the whole chain has `group_sla_working_days` and "
        "`group_sla_with_verification` (the appointment date). Working days follow Vietnam's calendar: "
        "weekends, public holidays and swapped days; a dossier received after 15:00 counts from the next "
        "working day. The monitor raises a stuck alert past a step's deadline or an intermediate state's "
        "limit.",
    ),
    # Time
    Statement(
        "clock",
        "Time",
        "In a simulated run `occurred_at` is sim time, not wall time. Sim time is read from the stack's "
        "clock: `stack.json` in the stack's home (`LT_HOME`) gives `clock.sim_clock_file`, a JSON file of `segments` "
        "`{anchor (Unix s), epoch (ISO 8601), speed}`, oldest first; sim time at real time t is "
        "`epoch + (t - anchor) × speed` of the last segment whose anchor ≤ t (speed 0: paused). Read the "
        "file again whenever it changes (at most every 50 ms is enough).",
    ),
    Statement(
        "stamping",
        "Time",
        "An event's `occurred_at` MUST NOT be later than the sim time at which it is published, and it MUST reach the "
        "broker within `LT_SIM_MAX_LAG_S` real seconds of the sim time it carries (5 s unless the profile "
        "says otherwise): the monitor judges a deadline once that bound has passed, so a later event reads "
        "as a missed deadline. A copy published again (a republish command, a redrive) keeps its original "
        "`occurred_at` and is exempt: only the first copy of an `event_id` is held to the bound.",
    ),
    Statement(
        "attach",
        "Time",
        "`lienthong run` recreates the topics and then writes the new clock file: an external agency MUST "
        "attach (join its consumer group on its work topic) after the topics exist, and read the clock "
        "from the file that run wrote.",
    ),
    # Liveness
    Statement(
        "heartbeat",
        "Liveness",
        "Every agency MUST publish `agency.heartbeat` (payload `seq`, 0 at each start of a process and one "
        "more at each beat, "
        "and `instance`, naming the process; `dossier_id` and `chain` null) on the event topic every "
        "`LT_HEARTBEAT_S` real seconds (1 s by default), also while idle. Three missed heartbeats, in "
        "sim time, raise an agency alert.",
    ),
    # Special messages
    Statement(
        "primer",
        "Special messages",
        f"A message with header `{PRIMER_HEADER}` is a primer, not a handoff or an event: a `clock.mark` on the "
        "event topic, `{}` elsewhere. On the embedded broker the harness writes one at offset 0 of every "
        "partition whenever its topics start empty (a new simulation, a broker restart), because that "
        "broker's first batch of a partition must come from one producer; topics on Apache Kafka start "
        "empty, with no primer. A consumer MUST skip a message carrying that header, at whatever offset "
        "it finds one.",
    ),
    Statement(
        "commands",
        "Special messages",
        f"A message on a work topic with header `{COMMAND_HEADER}` is an admin command, not a handoff "
        "(schema `republish` in the AsyncAPI document): publish again the selected messages of the agency's "
        "own outbox (by event id and topic, by dossier, or what the broker acknowledged since a time), then "
        "answer `{command_id, agency, queued, missing}` on the admin-replies topic, keyed by the command id. "
        "An agency that cannot MUST still skip the message; the asker then reports that no answer came. "
        f"A command carries header `{SIGNATURE_HEADER}`: the hex HMAC-SHA256 of its value under the operator "
        "token; an agency SHOULD act only on a command whose signature it verifies (the simulators do, and "
        "dead-letter the others), so that only an operator can make it act.",
    ),
    Statement(
        "dead-letter",
        "Special messages",
        "Input an agency cannot take (not JSON, another schema version, an unknown type, a payload that "
        f"breaks its schema, a message over {MAX_EVENT_BYTES} bytes) MUST NOT stop the consumer: it goes to "
        "the dead-letter topic as `{letter_id, agency, topic, partition, offset, key, reason, size, sha256, "
        "value, replayable}` and the agency reads on. `value` is the content with every personal ID number "
        "and name masked (null when it is not JSON): a letter MUST NOT carry personal data. The agency keeps "
        "the original and MAY take the admin command `replay` (`{command_id, agency, letters}`) to apply the "
        "named letters again, each at most once.",
    ),
)


def markdown() -> str:
    """The statements as a Markdown page, grouped by topic."""
    lines = [
        "# The liên thông contract: rules",
        "",
        "What every agency's system MUST do, beyond the JSON Schemas (`schemas/`) and the AsyncAPI",
        "document (`asyncapi.json`). `lienthong conformance AGENCY` checks a system against them.",
    ]
    topic = ""
    for s in STATEMENTS:
        if s.topic != topic:
            topic = s.topic
            lines += ["", f"## {topic}", ""]
        lines.append(f"- **{s.id}** — {s.text}")
    return "\n".join(lines) + "\n"
