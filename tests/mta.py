"""A private Postfix for the tests: loopback only, its own configuration and queue, Maildir
delivery to virtual users of example.org, a list alias, STARTTLS and Cyrus SASL logins.

Nothing of the machine's own mail setup is touched: the instance lives in a temporary folder
(``postfix -c DIR``) and listens on a free port of 127.0.0.1. Postfix's master starts as root,
so these tests need root and the Debian packages postfix, sasl2-bin and libsasl2-modules
(``.ci/run`` installs them); elsewhere they skip with the reason.
"""

from __future__ import annotations

import collections
import email
import email.policy
import os
import pwd
import shutil
import subprocess
import time
from email.message import EmailMessage
from pathlib import Path

import trustme
from outside import require_root_tools

SASL_USER = "seminar"
SASL_PASSWORD = "Postfix-Sasl-Pw-4711"
HOSTNAME = "announce-test.localdomain"
LIST = "list@example.org"
MEMBERS = ("a@example.org", "b@example.org", "c@example.org")
PEOPLE = tuple(f"person{i:05d}@example.org" for i in range(2000))
ORGANISER = "lm-seminar@example.org"  # the bundled series' mail.from: bounces come back here
GONE = "gone@example.org"  # accepted, then bounced by Postfix itself (error(8), 5.1.1)


def require_postfix() -> None:
    """Skip (or, in CI, fail) unless Postfix can be started here."""
    require_root_tools(("postfix", "postmap", "saslpasswd2"), "Postfix's master",
                       ".ci/run installs and runs it")


class Postfix:
    """One private Postfix instance."""

    def __init__(self, base: Path, port: int, authority: trustme.CA) -> None:
        self.base = base
        self.port = port
        self.conf = base / "conf"
        self.mail = base / "mail"
        self._authority = authority

    def _run(self, *args: str) -> str:
        done = subprocess.run(list(args), capture_output=True, text=True, timeout=120,
                              check=False)
        assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}{self.log()[-2000:]}"
        return done.stdout

    def log(self) -> str:
        path = self.base / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def configure(self) -> None:
        """Write main.cf, master.cf, the maps, the certificate and the SASL database."""
        base, postfix = self.base, pwd.getpwnam("postfix")
        for folder in (self.conf / "sasl", self.mail, base / "queue", base / "data"):
            folder.mkdir(parents=True, exist_ok=True)
        base.chmod(0o755)
        cert = self._authority.issue_cert("127.0.0.1", "localhost")
        cert.private_key_and_cert_chain_pem.write_to_path(str(self.conf / "tls.pem"))
        (self.conf / "main.cf").write_text(self._main_cf(postfix.pw_uid, postfix.pw_gid))
        (self.conf / "master.cf").write_text(self._master_cf())
        users = [*MEMBERS, *PEOPLE, ORGANISER]
        (self.conf / "vmailbox").write_text(
            "".join(f"{u} example.org/{u.split('@')[0]}/\n" for u in users))
        # gone@ is accepted (an alias), then bounced by error(8): Postfix writes the report.
        (self.conf / "virtual").write_text(f"{LIST} {', '.join(MEMBERS)}\n"
                                           f"{GONE} gone@dead.invalid\n")
        (self.conf / "transport").write_text("dead.invalid error:5.1.1 This mailbox is gone\n")
        for table in ("vmailbox", "virtual", "transport"):
            self._run("postmap", "-c", str(self.conf), f"hash:{self.conf / table}")
        (self.conf / "sasl" / "smtpd.conf").write_text(
            f"pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\n"
            f"sasldb_path: {base / 'sasldb2'}\n")
        subprocess.run(["saslpasswd2", "-p", "-c", "-f", str(base / "sasldb2"), "-u", HOSTNAME,
                        SASL_USER], input=SASL_PASSWORD, text=True, check=True, timeout=60)
        for path in (base / "data", self.mail, base / "sasldb2"):
            os.chown(path, postfix.pw_uid, postfix.pw_gid)
        self._run("postfix", "-c", str(self.conf), "post-install", "create-missing")

    def _main_cf(self, uid: int, gid: int) -> str:
        base = self.base
        return f"""\
compatibility_level = 3.6
queue_directory = {base}/queue
data_directory = {base}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = {base}/maillog
maillog_file_prefixes = {base}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = {HOSTNAME}
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = example.org
virtual_mailbox_base = {self.mail}
virtual_mailbox_maps = hash:{self.conf}/vmailbox
virtual_alias_maps = hash:{self.conf}/virtual
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
transport_maps = hash:{self.conf}/transport
smtpd_tls_chain_files = {self.conf}/tls.pem
smtpd_tls_security_level = may
smtpd_tls_received_header = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = {self.conf}/sasl
smtpd_sasl_local_domain = {HOSTNAME}
"""

    def _master_cf(self) -> str:
        """The packaged master.cf, with smtpd on our port and no service chrooted."""
        lines = []
        for packaged in Path("/etc/postfix/master.cf").read_text().splitlines():
            fields = packaged.split()
            if len(fields) >= 8 and not packaged.startswith((" ", "\t", "#")):
                if fields[0] == "smtp" and fields[1] == "inet":
                    fields[0] = f"127.0.0.1:{self.port}"
                fields[4] = "n"
                packaged = " ".join(fields)  # noqa: PLW2901 (the line, rewritten)
            lines.append(packaged)
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        self._run("postfix", "-c", str(self.conf), "start")
        deadline = time.monotonic() + 30
        while "daemon started" not in self.log():
            assert time.monotonic() < deadline, self.log()[-2000:]
            time.sleep(0.05)

    def stop(self) -> None:
        subprocess.run(["postfix", "-c", str(self.conf), "stop"], capture_output=True,
                       timeout=120, check=False)

    def accepted(self) -> int:
        """How many messages Postfix has taken in so far (its log says so as it queues them,
        before they are delivered)."""
        return sum(1 for line in self.log().splitlines()
                   if "postfix/cleanup[" in line and "message-id=" in line)

    def counts(self) -> collections.Counter[str]:
        """How many messages each user's Maildir holds."""
        found: collections.Counter[str] = collections.Counter()
        domain = self.mail / "example.org"
        if domain.is_dir():
            for user in os.scandir(domain):
                new = Path(user.path) / "new"
                found[f"{user.name}@example.org"] = len(os.listdir(new)) if new.is_dir() else 0
        return found

    def messages(self, user: str) -> list[EmailMessage]:
        folder = self.mail / "example.org" / user.split("@", maxsplit=1)[0] / "new"
        out = []
        for path in sorted(folder.iterdir()):
            parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            out.append(parsed)
        return out

    def wait_until_idle(self, timeout: float = 300) -> None:
        """Wait until the queue is empty: everything accepted has been delivered."""
        deadline = time.monotonic() + timeout
        while True:
            queued = self._run("postqueue", "-c", str(self.conf), "-j").strip()
            if not queued:
                return
            assert time.monotonic() < deadline, queued[:2000]
            time.sleep(0.2)

    def maildir(self, user: str) -> Path:
        """The Maildir Postfix delivers ``user``'s mail to."""
        return self.mail / "example.org" / user.split("@", maxsplit=1)[0]

    def clear(self) -> None:
        """Forget every delivered message (between tests)."""
        shutil.rmtree(self.mail / "example.org", ignore_errors=True)
