"""How a process reaches Kafka (runtime/kafkaaccess.py): plain text gives no option at all; SASL_SSL
gives TLS checked against the CA and the process's own principal, its password from the
environment or from the secrets folder; what is missing is named."""

from __future__ import annotations

import re
import ssl
from pathlib import Path

import pytest

from runtime import kafkaaccess
from runtime.settings import Settings

CA = Path(__file__).parent / "kafka_ca_example.pem"
"""A CA certificate made by keytool for this test (nothing trusts it)."""


def secured(tmp_path: Path, **more: str) -> Settings:
    secrets = tmp_path / "secrets"
    secrets.mkdir(exist_ok=True)
    for who, word in (("hotich", "h-secret"), ("operator", "o-secret")):
        (secrets / f"{who}.password").write_text(word + "\n", encoding="utf-8")
    env = {"LT_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "LT_KAFKA_SECRETS_DIR": str(secrets), **more}
    return Settings.from_env(env)


def test_plain_text_adds_no_option(tmp_path: Path) -> None:
    access = kafkaaccess.from_settings(Settings.from_env({}), "hotich")
    assert not access.secured
    assert access.options() == {}
    assert access.faust_credentials() is None


def test_a_secured_process_is_its_role_with_its_own_password(tmp_path: Path) -> None:
    access = kafkaaccess.from_settings(secured(tmp_path), "hotich")
    assert (access.username, access.password, access.mechanism) == ("hotich", "h-secret", "SCRAM-SHA-512")
    operator = access.as_principal("operator")
    assert (operator.username, operator.password) == ("operator", "o-secret")
    named = kafkaaccess.from_settings(secured(tmp_path, LT_KAFKA_USERNAME="cutru", LT_KAFKA_PASSWORD="given"), "hotich")
    assert (named.username, named.password) == ("cutru", "given")


def test_the_options_need_the_ca_and_check_the_host(tmp_path: Path) -> None:
    access = kafkaaccess.from_settings(secured(tmp_path), "hotich")
    with pytest.raises(kafkaaccess.AccessError, match="LT_KAFKA_CA_FILE"):
        access.options()
    with_ca = kafkaaccess.from_settings(secured(tmp_path, LT_KAFKA_CA_FILE=str(CA)), "hotich")
    options = with_ca.options()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_plain_username"] == "hotich"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_a_principal_without_a_password_is_named(tmp_path: Path) -> None:
    with pytest.raises(kafkaaccess.AccessError, match=r"no password for Kafka principal 'lltp': .*lltp\.password"):
        kafkaaccess.from_settings(secured(tmp_path), "lltp")
    with pytest.raises(kafkaaccess.AccessError, match="set LT_KAFKA_PASSWORD or LT_KAFKA_SECRETS_DIR"):
        kafkaaccess.from_settings(Settings.from_env({"LT_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}), "lltp")


def test_an_unknown_protocol_is_refused() -> None:
    with pytest.raises(
        ValueError, match=re.escape("LT_KAFKA_SECURITY_PROTOCOL='SSL_PLUS': Input should be 'PLAINTEXT' or 'SASL_SSL'")
    ):
        Settings.from_env({"LT_KAFKA_SECURITY_PROTOCOL": "SSL_PLUS"})
