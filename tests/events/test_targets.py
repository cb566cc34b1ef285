"""The URL rules of webhook endpoints, with WEBHOOK_ALLOW_HTTP and WEBHOOK_ALLOW_PRIVATE_TARGETS off (the
default): refused at create and PATCH (a 400 on `url`), and again at each attempt against the DNS answer
of that moment and the address actually connected to."""

import socket

import pytest

from events import delivery as webhooks
from events.models import WebhookDelivery, WebhookEndpoint
from events.targets import TargetRefused, guarded_session, refused_because, target_check
from tests.conftest import company_url
from tests.factories.events import PUBLIC_URL, WebhookDeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db

REFUSED = [
    ("http://93.184.215.14/hooks", "must start with https://"),
    ("https://localhost/hooks", "localhost resolves to 127.0.0.1, a loopback address"),
    ("https://127.0.0.1/hooks", "127.0.0.1, a loopback address"),
    ("https://127.8.9.10:8443/hooks", "a loopback address"),
    ("https://10.1.2.3/hooks", "10.1.2.3, a private address"),
    ("https://172.16.5.4/hooks", "a private address"),
    ("https://192.168.0.10/hooks", "a private address"),
    ("https://169.254.169.254/latest/meta-data", "169.254.169.254, a link-local address"),
    ("https://[::1]/hooks", "::1, a loopback address"),
    ("https://[::ffff:127.0.0.1]/hooks", "a loopback address"),
    ("https://[::ffff:10.0.0.1]/hooks", "a private address"),
    ("https://[fe80::1]/hooks", "a link-local address"),
    ("https://[fd00::1]/hooks", "a private address"),
    ("https://0.0.0.0/hooks", "an unspecified address"),
    ("https://224.0.0.1/hooks", "a multicast address"),
    ("https://240.0.0.1/hooks", "a reserved address"),
    ("https://100.64.0.1/hooks", "not a publicly routable address"),
]


@pytest.fixture(autouse=True)
def rules_on(settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False


def endpoints_url(company, path: str = "") -> str:
    return company_url(company, f"webhook-endpoints{path}")


@pytest.mark.parametrize("url, reason", REFUSED)
def test_create_refuses_urls_that_are_not_https_or_not_public(api, company, url, reason):
    response = api.post(endpoints_url(company), {"url": url}, format="json")
    assert response.status_code == 400, response.json()
    (message,) = response.json()["url"]
    assert reason in message
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url, reason", REFUSED[:4])
def test_patch_refuses_them_too_and_changes_nothing(api, company, url, reason):
    endpoint = WebhookEndpointFactory(company=company)
    response = api.patch(endpoints_url(company, f"/{endpoint.id}"), {"url": url}, format="json")
    assert response.status_code == 400 and reason in response.json()["url"][0]
    endpoint.refresh_from_db()
    assert endpoint.url == PUBLIC_URL


def test_a_public_https_url_is_accepted(api, company):
    response = api.post(endpoints_url(company), {"url": PUBLIC_URL}, format="json")
    assert response.status_code == 201, response.json()


def test_a_host_that_does_not_resolve_is_refused(api, company, monkeypatch):
    def no_answer(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_answer)
    response = api.post(endpoints_url(company), {"url": "https://hooks.nowhere.invalid/x"}, format="json")
    assert response.status_code == 400 and "does not resolve" in response.json()["url"][0]


def test_every_address_of_the_answer_must_be_public(monkeypatch):
    def answer(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.8", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", answer)
    with pytest.raises(TargetRefused, match="hooks.example.com resolves to 10.0.0.8, a private address"):
        target_check("https://hooks.example.com/x")


def test_the_settings_open_plain_http_and_private_targets(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    target_check("http://127.0.0.1:8080/hooks")
    target_check("https://localhost/hooks")
    settings.WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(TargetRefused, match="https://"):
        target_check("http://127.0.0.1:8080/hooks")


@pytest.mark.parametrize(
    "address, public",
    [("93.184.215.14", True), ("2606:4700::1111", True), ("::ffff:93.184.215.14", True), ("10.0.0.1", False)],
)
def test_refused_because(address, public):
    assert (refused_because(address) is None) == public


# --- at delivery: the DNS answer of the moment, and the peer actually connected to --------------------


def test_an_endpoint_whose_host_now_resolves_privately_fails_the_attempt(company, queue, monkeypatch):
    endpoint = WebhookEndpointFactory(company=company, url="https://hooks.example.com/x")
    row = WebhookDeliveryFactory(endpoint=endpoint)

    def private(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]

    monkeypatch.setattr(socket, "getaddrinfo", private)
    assert queue.drain(row.created_at) == [WebhookDelivery.Status.PENDING]
    row.refresh_from_db()
    assert row.attempts == 1 and row.last_status_code is None
    assert row.last_error == (
        "Refused target: hooks.example.com resolves to 10.0.0.7, a private address; "
        "webhooks go only to public addresses."
    )


def test_a_dns_answer_that_changes_after_the_check_is_caught_at_connect(
    company, receiver, queue, settings, monkeypatch
):
    """DNS rebinding: public when checked, the receiver on 127.0.0.1 when connected."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False  # the receiver fixture opened both; http stays open
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    endpoint = WebhookEndpointFactory(company=company, url=f"http://rebind.example.com:{port}/hooks")
    receiver.secrets = [endpoint.secret]
    row = WebhookDeliveryFactory(endpoint=endpoint)
    answers = iter(["93.184.215.14", "127.0.0.1"])

    def rebinding(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    assert queue.drain(row.created_at) == [WebhookDelivery.Status.PENDING]
    row.refresh_from_db()
    assert "rebind.example.com resolves to 127.0.0.1, a loopback address" in row.last_error
    assert receiver.received == [] and receiver.refused == []  # not a byte reached it


def test_the_guarded_session_refuses_a_private_peer_by_itself(receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(TargetRefused, match="127.0.0.1, a loopback address"):
        guarded_session().post(receiver.url, data=b"{}", timeout=2)
    assert receiver.received == [] and receiver.refused == []


def test_the_delivery_module_checks_before_connecting(company, queue, settings):
    endpoint = WebhookEndpointFactory(company=company, url="https://127.0.0.1:9/hooks")  # stored before
    row = WebhookDeliveryFactory(endpoint=endpoint)
    outcome = webhooks.delivery_send(delivery=row, now=row.created_at)
    assert not outcome.delivered and outcome.error.startswith("Refused target: 127.0.0.1, a loopback")
