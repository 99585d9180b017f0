"""Hostile input and secrets: nothing that reaches announce may add a recipient, a header,
active HTML, or leak the password. The corpus lives in tests/hostile/."""

from __future__ import annotations

import base64
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.parser import BytesHeaderParser
from pathlib import Path

import markdown
import pytest
import trustme
import yaml
from htmlcheck import assert_no_active_content, shown, without_liquid
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runners import invoke
from seriesfiles import REPO, TALK, TESTS, subscribe, use_subscriber_file, write
from smtpserver import Server, authenticator, parts, start_server, tls_server

from mailer.mail.composing import compose
from mailer.mail.recipients import plan_recipients
from mailer.render.formats import MARKDOWN_EXTENSIONS
from mailer.series.kinds import Kind
from mailer.series.store import Store

HOSTILE = TESTS / "hostile"
NOW = datetime(2024, 2, 20, 8, 0, tzinfo=UTC)
PASSWORD = "Sw0rdf1sh-secret-9731"  # searched for in every output and file


def use_record(series: Path, name: str) -> None:
    shutil.copy(HOSTILE / name, series / "seminars" / TALK)


@pytest.mark.parametrize(("name", "key"), [
    ("crlf-title.yaml", "title"), ("crlf-speaker.yaml", "speaker"),
    ("crlf-affiliation.yaml", "affiliation"), ("nel-title.yaml", "title"),
])
def test_line_breaks_in_header_fields_are_refused(series: Path, smtp_server: Server,
                                                  name: str, key: str) -> None:
    use_record(series, name)
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 2, result.both
    assert f"seminars/{TALK}:" in result.err and f": {key}: " in result.err
    assert "line break" in result.err
    assert smtp_server.received == []
    assert invoke(series, "check").code == 2


@pytest.mark.parametrize("address", [
    "me@example.org\r\nBcc: victim@example.net",
    "me@example.org, victim@example.net",
    "me@example.org\nvictim@example.net",
    "<me@example.org> victim@example.net",
])
def test_injected_to_is_refused(series: Path, smtp_server: Server, address: str) -> None:
    result = invoke(series, "send", "2024-02-22", "--to", address, "--today", "2024-02-20",
                    server=smtp_server)
    assert result.code == 2, result.both
    assert "--to:" in result.err
    assert smtp_server.received == []


@pytest.mark.parametrize(("name", "bad_lines"), [
    ("subscribers-smuggled.txt", [2, 4]), ("subscribers-smuggled.csv", [3, 5])])
def test_smuggled_subscribers_stop_the_run(series: Path, smtp_server: Server, name: str,
                                          bad_lines: list[int]) -> None:
    shutil.copy(HOSTILE / name, series / name)
    use_subscriber_file(series, name)
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 2, result.both
    for line in bad_lines:
        assert f"{name}:{line}:" in result.err
    assert smtp_server.received == []


def test_active_html_never_runs_and_shows_as_typed(series: Path, smtp_server: Server) -> None:
    use_record(series, "active-html.yaml")
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 0, result.both
    message = smtp_server.received[0].message
    found = parts(message)
    html = found["text/html"].get_content()
    assert_no_active_content(html)
    assert "<em>really</em>" in html and 'href="https://example.org/ok"' in html
    assert "<b>bold</b>" in html
    seen = shown(html)
    for typed in ('<img src="x" onerror="alert(1)">', "<script>alert(3)</script>",
                  "[a trap](javascript:alert(2))", "<svg onload=alert(6)>",
                  "Vec<T> & <script>alert('title')</script>"):
        assert typed in seen, typed
    assert "Template syntax is text: {{ 7*7 }}" in html and "text: 49" not in html
    text = found["text/plain"].get_content()
    assert "Template syntax is text: {{ 7*7 }} and {% if true %}yes{% endif %}" in text
    assert "Title: Vec<T> & <script>alert('title')</script>" in text
    assert message["Subject"].startswith("Learning Machines seminar 2024-02-22 15:00: Vec<T>")
    page = invoke(series, "page", "2024-02-22").out
    body = page.split("\n---\n", 1)[1]
    rendered = markdown.markdown(without_liquid(body), extensions=MARKDOWN_EXTENSIONS)
    assert_no_active_content(rendered)
    assert "<script>alert(3)</script>" in shown(rendered)
    assert "&#123;&#123; 7*7 &#125;&#125;" in body  # no brace for Liquid: test_liquid.py
    for typed in ("{{ 7*7 }}", "{% if true %}yes{% endif %} and {% endraw %}", "{{ site.title }}"):
        assert typed in shown(rendered), typed
    assert "**Title:** Vec&lt;T&gt; &amp; &lt;script&gt;" in page


def test_title_template_syntax_is_literal_everywhere(series: Path) -> None:
    write(series / "seminars" / TALK,
          'date: 2024-02-22\nspeaker: "{{ 7*7 }}"\ntitle: "{% raw %}{{ 6*7 }}"\n')
    dry = invoke(series, "send", "2024-02-22", "--dry-run", "--today", "2024-02-20")
    assert dry.code == 0, dry.both
    assert "Subject: Learning Machines seminar 2024-02-22 15:00: {% raw %}{{ 6*7 }}" in dry.out
    assert "Title: {% raw %}{{ 6*7 }}\n" in dry.out
    assert "Speaker: {{ 7*7 }}\n" in dry.out
    assert "Title: 42" not in dry.out and "Speaker: 49" not in dry.out


@pytest.fixture
def auth_server() -> Iterator[Server]:
    server = start_server(authenticator=authenticator("seminar", "the-right-one"),
                          auth_require_tls=False)
    yield server
    server.controller.stop()


def test_refused_login_exits_1_and_the_password_is_nowhere(series: Path,
                                                          auth_server: Server) -> None:
    env = {"ANNOUNCE_SMTP_USERNAME": "seminar", "ANNOUNCE_SMTP_PASSWORD": PASSWORD}
    dry = invoke(series, "send", "2024-02-22", "--dry-run", "--today", "2024-02-20",
                 server=auth_server, **env)
    assert dry.code == 0
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=auth_server,
                    **env)
    assert result.code == 1, result.both
    assert (f"127.0.0.1:{auth_server.port}: login refused for user seminar (535, AUTH PLAIN)"
            in result.err)
    assert auth_server.received == []
    secrets = [PASSWORD.encode(), base64.b64encode(PASSWORD.encode()),
               base64.b64encode(f"\0seminar\0{PASSWORD}".encode())]
    outputs = (dry.out + dry.err + result.out + result.err).encode()
    files = [p for p in series.rglob("*") if p.is_file()]
    assert any(p.name == "message.eml" for p in files)
    for secret in secrets:
        assert secret not in outputs
        for path in files:
            assert secret not in path.read_bytes(), path


def test_right_password_logs_in(series: Path, auth_server: Server) -> None:
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=auth_server,
                 ANNOUNCE_SMTP_USERNAME="seminar", ANNOUNCE_SMTP_PASSWORD="the-right-one")
    assert result.code == 0, result.both
    assert len(auth_server.received) == 1


def test_login_without_tls_to_a_remote_host_is_refused(series: Path) -> None:
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                    ANNOUNCE_SMTP_HOST="smtp.example.net", ANNOUNCE_SMTP_USERNAME="seminar",
                    ANNOUNCE_SMTP_PASSWORD=PASSWORD)
    assert result.code == 2, result.both
    assert "unencrypted" in result.err
    assert PASSWORD not in result.both


@pytest.mark.parametrize(("implicit", "mode"), [(False, "starttls"), (True, "tls")])
def test_untrusted_certificate_is_refused_then_trusted_via_ssl_cert_file(
        series: Path, tmp_path: Path, authority: trustme.CA, implicit: bool, mode: str) -> None:
    server = tls_server(authority, implicit=implicit)
    try:
        refused = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=server,
                      ANNOUNCE_SMTP_SECURITY=mode)
        assert refused.code == 1, refused.both
        assert "certificate is not trusted" in refused.err
        assert server.received == []
        ca_file = tmp_path / "ca.pem"
        authority.cert_pem.write_to_path(str(ca_file))
        trusted = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=server,
                         ANNOUNCE_SMTP_SECURITY=mode, SSL_CERT_FILE=str(ca_file))
        assert trusted.code == 0, trusted.both
        assert len(server.received) == 1
    finally:
        server.controller.stop()


@pytest.mark.parametrize(("name", "says"), [
    ("alias-bomb.yaml", "YAML aliases (*a0) are not allowed"),
    ("deep.yaml", "nested deeper than"),
])
def test_yaml_bombs_fail_fast(series: Path, name: str, says: str) -> None:
    use_record(series, name)
    result = invoke(series, "check")
    assert result.code == 2, result.both
    assert says in result.err and f"seminars/{TALK}:" in result.err


def test_oversized_record_fails_fast(series: Path) -> None:
    write(series / "seminars" / TALK, "date: 2024-02-22\nabstract: |\n" + "  x\n" * 400_000)
    result = invoke(series, "check")
    assert result.code == 2
    assert "is too large for a talk record" in result.err


# Any one-line text: control characters and line separators are refused with a clear error
# (tested above), so the property is about everything else a field can hold.
FIELD = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
                min_size=1, max_size=40)
EXPECTED = {"To", "Message-ID", "Date", "From", "Subject", "Reply-To", "List-Id",
            "List-Unsubscribe", "Content-Type", "MIME-Version"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(title=FIELD, speaker=FIELD, affiliation=FIELD)
def test_any_field_value_never_adds_a_header_or_recipient(tmp_path_factory: pytest.TempPathFactory,
                                                          title: str, speaker: str,
                                                          affiliation: str) -> None:
    root = tmp_path_factory.mktemp("prop")
    shutil.copytree(REPO / "seminars", root / "seminars", dirs_exist_ok=True)
    record = {"date": date(2024, 2, 22), "title": title, "speaker": speaker,
              "affiliation": affiliation}
    (root / "seminars" / TALK).write_text(yaml.safe_dump(record, allow_unicode=True),
                                          encoding="utf-8")
    store = Store(root)
    talk = store.find("2024-02-22")
    assert (talk.title, talk.speaker_line()) == (title, f"{speaker}, {affiliation}")
    plan = plan_recipients(root, store.series.mail)
    outgoing = compose(store, talk, Kind.ANNOUNCEMENT, plan, mail=store.series.mail, now=NOW)
    data = outgoing.blueprint.wire(plan.first_to(), 0)
    headers = BytesHeaderParser().parsebytes(data)
    assert set(headers.keys()) <= EXPECTED
    assert headers.get_all("To") == ["lm-seminar-list@example.org"]
    assert len(headers.get_all("Subject") or []) == 1
    assert [d.recipients for d in plan.deliveries()] == [("lm-seminar-list@example.org",)]


@pytest.mark.parametrize("mechanism", ["plain", "login"])
def test_verbose_shows_the_dialogue_and_no_credential(series: Path, auth_server: Server,
                                                      mechanism: str) -> None:
    subscribe(series, 4)
    env = {"ANNOUNCE_SMTP_USERNAME": "seminar", "ANNOUNCE_SMTP_PASSWORD": "the-right-one",
           "ANNOUNCE_SMTP_AUTH": mechanism, "ANNOUNCE_SMTP_CONNECTIONS": "2"}
    result = invoke(series, "--verbose", "send", "2024-02-22", "--today", "2024-02-20",
                    server=auth_server, **env)
    assert result.code == 0, result.both
    dialogue = result.err.splitlines()
    assert any(line.startswith("smtp[1] < 220 ") for line in dialogue)  # the greeting
    assert f"smtp[1] > AUTH {mechanism.upper()} ****" in dialogue
    assert any(line.startswith("smtp[1] < 235 ") for line in dialogue)
    assert any(re.fullmatch(r"smtp\[\d\] > MAIL FROM:<lm-seminar@example\.org>", line)
               for line in dialogue)
    assert sum(line.endswith("bytes, and its final .>") for line in dialogue) == 4
    assert not any("Unsubscribe" in line or "Mathis" in line for line in dialogue)
    for secret in (b"the-right-one", base64.b64encode(b"the-right-one"),
                   base64.b64encode(b"\0seminar\0the-right-one")):
        assert secret not in result.both.encode()


def test_verbose_after_the_command_says_where_it_goes(series: Path) -> None:
    result = invoke(series, "send", "--verbose", "--today", "2024-02-20")
    assert result.code == 2
    assert "--verbose is an option of announce itself" in result.err
