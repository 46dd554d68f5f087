"""Which addresses a webhook may go to: every address a host resolves to is checked, not only the
first, and the allowlist lets through only what it names."""

from ipaddress import ip_address

import pytest
from pytest_django.fixtures import SettingsWrapper

from webhooks.targets import TargetRefused, check, refused_addresses


def test_one_refused_address_among_a_hosts_addresses_is_enough_to_refuse_it(
    settings: SettingsWrapper,
) -> None:
    settings.WEBHOOKS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    addresses = tuple(
        ip_address(a) for a in ("93.184.216.34", "127.0.0.1", "10.0.0.1", "::1", "::ffff:10.0.0.2")
    )

    assert refused_addresses(addresses) == ["10.0.0.1", "::1", "::ffff:a00:2"]


def test_allowlisted_addresses_pass_and_keep_their_path_and_port(settings: SettingsWrapper) -> None:
    settings.WEBHOOKS_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]

    target = check("http://localhost:8080/hook?shop=1")

    assert (target.host, target.port, target.path) == ("localhost", 8080, "/hook?shop=1")
    assert {str(address) for address in target.addresses} <= {"127.0.0.1", "::1"}


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.5", "172.16.0.1", "192.168.0.1", "169.254.169.254", "::1", "fe80::1", "fc00::1"],
)
def test_private_loopback_and_link_local_addresses_are_refused_without_the_allowlist(
    settings: SettingsWrapper, address: str
) -> None:
    settings.WEBHOOKS_ALLOWED_NETWORKS = []
    host = f"[{address}]" if ":" in address else address

    with pytest.raises(TargetRefused) as refused:
        check(f"https://{host}/hook")

    assert refused.value.code == "webhook_target_refused"


def test_a_public_address_over_https_passes() -> None:
    assert check("https://93.184.216.34/hook").addresses[0].is_global
