"""How this process reaches Kafka: in plain text (the embedded broker, a test's cluster), or over
TLS with a SASL/SCRAM principal of its own (the local Apache Kafka cluster `lienthong up --broker
kafka` makes, or a province's secured cluster). Every Kafka client of the product takes its
options from here (`options()`, `faust_credentials()`), so none is built with only an address.

Set once per entry point (`configure`, beside the logging): the principal is LT_KAFKA_USERNAME
when given, else the process's own role (an agency's code, `monitor`, `console`, `operator` for
the command line). The password is LT_KAFKA_PASSWORD, else the file `<principal>.password` in
LT_KAFKA_SECRETS_DIR (the local cluster keeps one per principal there, readable by its owner
only). The cluster's CA certificate (PEM) is LT_KAFKA_CA_FILE. docs/security.md says which
rights each principal has."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import faust

    from runtime.settings import PlatformSettings

Protocol = Literal["PLAINTEXT", "SASL_SSL"]
OPERATOR = "operator"
"""The principal of the operator's commands: topics, ACLs and other admin requests."""


class AccessError(ValueError):
    """The settings ask for SASL_SSL without what it needs; the message names the setting."""


@dataclass(frozen=True)
class KafkaAccess:
    protocol: Protocol = "PLAINTEXT"
    mechanism: str = "SCRAM-SHA-512"
    username: str = ""
    password: str = ""
    ca_file: Path | None = None
    secrets_dir: Path | None = None

    @property
    def secured(self) -> bool:
        return self.protocol != "PLAINTEXT"

    def as_principal(self, principal: str) -> KafkaAccess:
        """The same cluster as another principal, whose password is in the secrets directory
        (plain text: unchanged)."""
        if not self.secured or principal == self.username:
            return self
        return replace(self, username=principal, password=_secret(self.secrets_dir, principal))

    def ssl_context(self) -> ssl.SSLContext:
        if self.ca_file is None:
            raise AccessError("LT_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs LT_KAFKA_CA_FILE (the cluster's CA, PEM)")
        context = ssl.create_default_context(cafile=str(self.ca_file))
        context.check_hostname = True
        return context

    def options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producers, consumers and admin client."""
        if not self.secured:
            return {}
        return {
            "security_protocol": self.protocol,
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
            "ssl_context": self.ssl_context(),
        }

    def faust_credentials(self) -> faust.SASLCredentials | None:
        if not self.secured:
            return None
        import faust

        return faust.SASLCredentials(
            username=self.username, password=self.password, ssl_context=self.ssl_context(), mechanism=self.mechanism
        )


def _secret(folder: Path | None, principal: str) -> str:
    if folder is None:
        raise AccessError(
            f"no password for Kafka principal {principal!r}: set LT_KAFKA_PASSWORD or LT_KAFKA_SECRETS_DIR"
        )
    path = folder / f"{principal}.password"
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise AccessError(f"no password for Kafka principal {principal!r}: {path} ({exc.strerror})") from None


def from_settings(settings: PlatformSettings, role: str) -> KafkaAccess:
    """This process's access: `role` is its principal unless LT_KAFKA_USERNAME names another."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return KafkaAccess()
    secrets_dir = settings.kafka_secrets_dir
    access = KafkaAccess(
        protocol=protocol,
        mechanism=settings.kafka_sasl_mechanism,
        ca_file=settings.kafka_ca_file,
        secrets_dir=secrets_dir,
    )
    username = settings.kafka_username or role
    if settings.kafka_password:
        return replace(access, username=username, password=settings.kafka_password)
    return replace(access, username=username, password=_secret(secrets_dir, username))


_current = KafkaAccess()


def configure(settings: PlatformSettings, role: str) -> KafkaAccess:
    """Set this process's access (once, at its entry point, beside the logging)."""
    global _current
    _current = from_settings(settings, role)
    return _current


def use(access: KafkaAccess) -> None:
    """Set this process's access as given (the command line, once it has made a secured cluster)."""
    global _current
    _current = access


def current() -> KafkaAccess:
    return _current


def options(principal: str | None = None) -> dict[str, Any]:
    """aiokafka's keyword arguments for this process's principal, or for `principal` (the
    operator's admin requests)."""
    access = _current if principal is None else _current.as_principal(principal)
    return access.options()


def faust_credentials() -> faust.SASLCredentials | None:
    return _current.faust_credentials()
