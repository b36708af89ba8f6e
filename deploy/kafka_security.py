"""The local Apache Kafka cluster's security: TLS on every listener, SASL/SCRAM-SHA-512 for every
client, and KRaft's StandardAuthorizer (deploy/kafka_acls.py says who may do what).

Made once per stack home, under `$LT_HOME/kafka/security/` (readable by its owner only), by the
JDK's `keytool`, which ships with the Java that runs the brokers (so no new library): a CA, one
certificate for the nodes (`IP:127.0.0.1`, `DNS:localhost`) signed by it, and the CA as PEM for
the clients. Every principal's password is drawn here and kept as `secrets/<principal>.password`;
the credentials are written into the cluster's metadata when its nodes are formatted (KRaft's
`--add-scram`), so they exist before any node serves.

Listeners: clients and the brokers among themselves on SASL_SSL (the brokers as principal
`broker`); the controllers on SSL with client certificates (principal `kafka-node`, from the
certificate's CN). `broker`, `kafka-node` and `operator` are super users."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from deploy.kafka_acls import PRINCIPALS
from runtime.kafkaaccess import OPERATOR

BROKER = "broker"
NODE_CN = "kafka-node"
MECHANISM = "SCRAM-SHA-512"
VALIDITY_DAYS = "825"
SAN = "SAN=ip:127.0.0.1,dns:localhost"


class KeytoolMissing(RuntimeError):
    """The JDK's keytool is not on PATH: the message says what to install."""


@dataclass(frozen=True)
class Material:
    folder: Path

    @property
    def ca_pem(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def keystore(self) -> Path:
        return self.folder / "node.p12"

    @property
    def secrets_dir(self) -> Path:
        return self.folder / "secrets"

    def password(self, principal: str) -> str:
        return (self.secrets_dir / f"{principal}.password").read_text(encoding="utf-8").strip()

    @property
    def store_password(self) -> str:
        return self.password("keystore")


def folder_of(home: Path) -> Path:
    return home / "kafka" / "security"


def ensure(home: Path) -> Material:
    """The stack's certificates and passwords, made on first use and kept (a restarted node, or
    a cluster started again on the same home, keeps its identity)."""
    made = Material(folder_of(home))
    if (made.folder / ".complete").exists():
        return made
    shutil.rmtree(made.folder, ignore_errors=True)
    made.secrets_dir.mkdir(parents=True, mode=0o700)
    os.chmod(made.folder, 0o700)
    for principal in (*PRINCIPALS, OPERATOR, BROKER, "keystore"):
        path = made.secrets_dir / f"{principal}.password"
        path.write_text(secrets.token_urlsafe(24), encoding="utf-8")
        path.chmod(0o600)
    _certificates(made)
    (made.folder / ".complete").write_text("keytool\n", encoding="utf-8")
    return made


def _keytool(*args: str) -> None:
    tool = shutil.which("keytool")
    if tool is None:
        raise KeytoolMissing(
            "`keytool` is not installed: the Kafka cluster's TLS needs it (apt-get install openjdk-17-jre-headless)"
        )
    done = subprocess.run([tool, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"keytool {args[0]} failed: {(done.stdout + done.stderr).strip()}")


def _certificates(made: Material) -> None:
    """A CA, the nodes' key pair, their certificate signed by the CA (with the loopback names), and
    the CA as PEM; the keystore holds the chain."""
    f, pw = made.folder, made.store_password
    ca, csr, crt = f / "ca.p12", f / "node.csr", f / "node.crt"
    store = ["-storetype", "PKCS12", "-storepass", pw, "-keypass", pw]
    key = ["-keyalg", "RSA", "-keysize", "2048", "-validity", VALIDITY_DAYS]
    ca_name, node_name = "CN=lienthong-local-ca", f"CN={NODE_CN}"
    _keytool("-genkeypair", "-alias", "ca", "-dname", ca_name, "-ext", "bc:c", *key, "-keystore", str(ca), *store)
    _keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", str(ca), "-storepass", pw, "-file", str(made.ca_pem))
    node = ["-keystore", str(made.keystore), "-storepass", pw]
    _keytool("-genkeypair", "-alias", "node", "-dname", node_name, "-ext", SAN, *key, *node, *store[:2], "-keypass", pw)
    _keytool("-certreq", "-alias", "node", *node, "-file", str(csr))
    uses = ["-ext", SAN, "-ext", "KU=digitalSignature,keyEncipherment", "-ext", "EKU=serverAuth,clientAuth"]
    signing = ["-alias", "ca", "-keystore", str(ca), "-storepass", pw]
    _keytool("-gencert", *signing, "-infile", str(csr), "-outfile", str(crt), "-rfc", *uses, "-validity", VALIDITY_DAYS)
    _keytool("-importcert", "-noprompt", "-alias", "ca", "-file", str(made.ca_pem), *node)
    _keytool("-importcert", "-noprompt", "-alias", "node", "-file", str(crt), *node)
    for path in f.iterdir():
        if path.is_file():
            path.chmod(0o600)


def properties(made: Material, port: int, controller_port: int) -> dict[str, str | int]:
    """The server.properties entries that secure one node (they replace the plain-text listeners)."""
    jaas = (
        f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{BROKER}" '
        f'password="{made.password(BROKER)}";'
    )
    return {
        "listeners": f"SASL_SSL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"SASL_SSL://127.0.0.1:{port}",
        "inter.broker.listener.name": "SASL_SSL",
        "listener.security.protocol.map": "SASL_SSL:SASL_SSL,CONTROLLER:SSL",
        "sasl.enabled.mechanisms": MECHANISM,
        "sasl.mechanism.inter.broker.protocol": MECHANISM,
        f"listener.name.sasl_ssl.{MECHANISM.lower()}.sasl.jaas.config": jaas,
        "listener.name.controller.ssl.client.auth": "required",
        "ssl.keystore.type": "PKCS12",
        "ssl.keystore.location": str(made.keystore),
        "ssl.keystore.password": made.store_password,
        "ssl.key.password": made.store_password,
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(made.ca_pem),
        "ssl.principal.mapping.rules": "RULE:^CN=([^,]+)$/$1/,DEFAULT",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{BROKER};User:{NODE_CN};User:{OPERATOR}",
        "allow.everyone.if.no.acl.found": "false",
    }


def scram_arguments(made: Material) -> list[str]:
    """The storage tool's `--add-scram` arguments: every principal's credential, in the metadata
    from the start."""
    out: list[str] = []
    for principal in (*PRINCIPALS, OPERATOR, BROKER):
        out += ["--add-scram", f"{MECHANISM}=[name={principal},password={made.password(principal)}]"]
    return out
