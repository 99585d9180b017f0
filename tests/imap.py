"""A private Dovecot for the tests: IMAP over TLS on a free loopback port, its own
configuration, state and Maildirs, a self-signed certificate the tests trust through
``SSL_CERT_FILE``, and one user with a password.

Nothing of the machine's own mail setup is touched (``dovecot -c FILE``). Dovecot's master
starts as root and the mail is kept as ``nobody``; elsewhere these tests skip with the reason,
and in CI (``.ci/run`` installs dovecot-imapd) they must run.
"""

from __future__ import annotations

import imaplib
import shutil
import ssl
import subprocess
import time
from pathlib import Path

import trustme
from outside import require_root_tools

USER = "organiser"
PASSWORD = "Imap-Pw-4711"


def require_dovecot() -> None:
    """Skip (or, in CI, fail) unless Dovecot can be started here."""
    require_root_tools(("dovecot",), "Dovecot's master", ".ci/run installs dovecot-imapd")


class Dovecot:
    """One private Dovecot instance."""

    def __init__(self, base: Path, port: int, authority: trustme.CA) -> None:
        self.base = base
        self.port = port
        self.authority = authority
        self.process: subprocess.Popen[bytes] | None = None
        self.maildir = base / "mail" / USER

    def configure(self) -> None:
        base = self.base
        for folder in ("run", "state", "mail", "home"):
            (base / folder).mkdir(parents=True, exist_ok=True)
        base.chmod(0o755)
        self.authority.cert_pem.write_to_path(str(base / "ca.pem"))
        cert = self.authority.issue_cert("127.0.0.1", "localhost")
        cert.cert_chain_pems[0].write_to_path(str(base / "cert.pem"))
        cert.private_key_pem.write_to_path(str(base / "key.pem"))
        (base / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        (base / "dovecot.conf").write_text(f"""\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{base}/cert.pem
ssl_key = <{base}/key.pem
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={base}/home/%u
}}
mail_location = maildir:{base}/mail/%u
first_valid_uid = 1
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.port}
  }}
}}
service anvil {{
  chroot =
}}
""")
        for folder in ("mail", "home"):
            shutil.chown(base / folder, "nobody", "nogroup")

    def start(self) -> None:
        self.process = subprocess.Popen(["dovecot", "-F", "-c", str(self.base / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                with self.client():
                    return
            except OSError:
                assert self.process.poll() is None, self.log()
                assert time.monotonic() < deadline, self.log()
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def log(self) -> str:
        path = self.base / "dovecot.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def client(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.base / "ca.pem"))\
            if (self.base / "ca.pem").exists() else ssl.create_default_context()
        conn = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=context, timeout=10)
        conn.login(USER, PASSWORD)
        return conn

    def append(self, data: bytes, folder: str = "INBOX") -> None:
        with self.client() as conn:
            status, _ = conn.append(folder, None, None, data)
            assert status == "OK"

    def folder(self, name: str) -> list[tuple[bytes, bytes]]:
        """Every message of a folder: its flags and its bytes."""
        with self.client() as conn:
            status, _ = conn.select(f'"{name}"', readonly=True)
            if status != "OK":
                return []
            found = []
            _, data = conn.uid("SEARCH", "ALL")
            for uid in (data[0] or b"").split():
                _, parts = conn.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
                head, raw = next(p for p in parts if isinstance(p, tuple))
                found.append((head, raw))
            return found

    def clear(self) -> None:
        shutil.rmtree(self.maildir, ignore_errors=True)
