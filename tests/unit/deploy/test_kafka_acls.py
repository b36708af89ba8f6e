"""The secured cluster's rights (deploy/kafka_acls.py), derived from the chains: an agency writes
only its own work topic, the work topics of the agencies its steps hand dossiers to, the portal's,
and the shared topics; it reads only its own. The cluster itself enforces them
(tests/e2e/test_node_faults.py tries an agency writing where it may not)."""

from __future__ import annotations

from contracts.chains import load_chains
from deploy.kafka_acls import PRINCIPALS, Acl, Operation, Pattern, Resource, handoffs, plan

ACLS = plan("lt", load_chains())


def rights(principal: str, operation: Operation, resource: Resource = Resource.TOPIC) -> set[tuple[str, Pattern]]:
    return {
        (a.name, a.pattern) for a in ACLS if (a.principal, a.operation, a.resource) == (principal, operation, resource)
    }


def literal(*names: str) -> set[tuple[str, Pattern]]:
    return {(n, Pattern.LITERAL) for n in names}


def test_each_agency_hands_dossiers_only_where_its_chains_go() -> None:
    assert handoffs(load_chains()) == {
        "portal": {"motcua"},
        "motcua": {"hotich", "lltp", "portal"},
        "hotich": {"cutru", "bhxh", "btxh", "portal"},
        "cutru": {"portal"},
        "bhxh": {"portal"},
        "btxh": {"portal"},
        # A certificate returned by post goes back to the one-stop desk for the postal step.
        "lltp": {"motcua", "portal"},
        "dancu": set(),
    }


def test_an_agency_writes_its_own_work_its_receivers_and_the_shared_topics_and_reads_only_its_own() -> None:
    shared = ("lt.dossier-events", "lt.dead-letter", "lt.admin-replies")
    assert rights("lltp", Operation.WRITE) == literal("lt.work.lltp", "lt.work.motcua", "lt.work.portal", *shared)
    assert rights("hotich", Operation.WRITE) == literal(
        "lt.work.hotich", "lt.work.cutru", "lt.work.bhxh", "lt.work.btxh", "lt.work.portal", *shared
    )
    assert rights("lltp", Operation.READ) == literal("lt.work.lltp")
    assert rights("lltp", Operation.READ, Resource.GROUP) == {("lt.lltp", Pattern.PREFIXED)}
    assert ("lt.work.cutru", Pattern.LITERAL) not in rights("lltp", Operation.WRITE)
    # The portal alone also reads the event topic: each dossier's timeline for its citizen.
    assert rights("portal", Operation.READ) == literal("lt.work.portal", "lt.dossier-events")


def test_the_monitor_reads_everything_and_writes_its_alerts_letters_and_clock_marks() -> None:
    assert rights("monitor", Operation.READ) == {("lt.", Pattern.PREFIXED)}
    assert rights("monitor", Operation.WRITE) == literal("lt.alerts", "lt.dead-letter", "lt.dossier-events")


def test_the_console_sends_commands_and_reads_replies_letters_and_alerts() -> None:
    assert rights("console", Operation.WRITE) == {("lt.work.", Pattern.PREFIXED)}
    assert rights("console", Operation.READ) == literal("lt.dead-letter", "lt.admin-replies", "lt.alerts")


def test_every_principal_may_describe_the_topics_and_nobody_may_create_or_configure() -> None:
    for who in PRINCIPALS:
        assert ("lt.", Pattern.PREFIXED) in rights(who, Operation.DESCRIBE)
    assert {a.operation for a in ACLS} == {Operation.READ, Operation.WRITE, Operation.DESCRIBE}
    assert "operator" not in {a.principal for a in ACLS}  # a super user: it needs no ACL


def test_another_prefix_names_its_own_topics() -> None:
    other = plan("tinh42", load_chains())
    assert Acl("cutru", Resource.TOPIC, "tinh42.work.cutru", Pattern.LITERAL, Operation.READ) in other
    assert not [a for a in other if a.name.startswith("lt.")]
