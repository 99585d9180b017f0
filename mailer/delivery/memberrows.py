"""The ledger's rows of the people who manage themselves (contract §9): sign-ups (pending until
confirmed, with the proof of consent), each subscriber's preferences, and the people whose
data was erased (a keyed hash, so they stay left out). A part of
:class:`mailer.delivery.ledger.Ledger`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailer.delivery.ledgerfile import LedgerFile

PENDING = "pending"
CONFIRMED = "confirmed"


@dataclass(frozen=True)
class Member:
    """One sign-up."""

    address: str  # lower-cased
    name: str
    status: str  # pending | confirmed
    via: str  # mail | web
    asked: str  # when the sign-up came (UTC, ISO 8601)
    consent: str | None  # the Message-ID of the confirming reply, or "web link"
    consented: str | None


@dataclass(frozen=True)
class Preferences:
    """What a subscriber chose: their time zone (None: the series') and reminders."""

    zone: str | None = None
    reminders: bool = True


class MemberRows(LedgerFile):
    """Sign-ups, preferences and erased people."""

    def members(self, status: str | None = None) -> list[Member]:
        """Every sign-up (or those of one ``status``), by address."""
        rows = self._read("SELECT address, name, status, via, asked, consent, consented "
                          "FROM members WHERE ? IS NULL OR status = ? ORDER BY address",
                          (status, status))
        return [Member(*(str(v) if v is not None else None for v in row))  # type: ignore[arg-type]
                for row in rows]

    def member(self, address: str) -> Member | None:
        """The sign-up of ``address``, if any."""
        found = [m for m in self.members() if m.address == address.lower()]
        return found[0] if found else None

    def sign_up(self, address: str, name: str, via: str, *, again: bool = False) -> bool:
        """Note a sign-up waiting for its confirmation; False when the address is confirmed
        already (a pending one is asked again). ``again``: a confirmed member who left asks to
        come back, and waits for a new confirmation like anyone."""
        current = self.member(address)
        if current is not None and current.status == CONFIRMED and not again:
            return False
        self._write("INSERT OR REPLACE INTO members (address, name, status, via, asked) "
                    "VALUES (?, ?, ?, ?, ?)", (address.lower(), name, PENDING, via, self._stamp()))
        return True

    def confirm(self, address: str, consent: str) -> bool:
        """Confirm a pending sign-up with its proof; False when there is none pending."""
        cursor = self._write("UPDATE members SET status = ?, consent = ?, consented = ? "
                             "WHERE address = ? AND status = ?",
                             (CONFIRMED, consent, self._stamp(), address.lower(), PENDING))
        return cursor.rowcount == 1

    def preferences(self) -> dict[str, Preferences]:
        """Every subscriber's preferences that differ from the defaults."""
        return {str(a): Preferences(z, bool(r)) for a, z, r in self._read(
            "SELECT address, zone, reminders FROM preferences ORDER BY address", ())}

    def prefer(self, address: str, *, zone: str | None = None,
               reminders: bool | None = None) -> Preferences:
        """Set a subscriber's zone or reminders (what is not given stays); return them."""
        now = self.preferences().get(address.lower(), Preferences())
        new = Preferences(zone if zone is not None else now.zone,
                          reminders if reminders is not None else now.reminders)
        self._write("INSERT OR REPLACE INTO preferences (address, zone, reminders, changed) "
                    "VALUES (?, ?, ?, ?)", (address.lower(), new.zone, int(new.reminders),
                                            self._stamp()))
        return new

    def erase(self, address: str, digest: str) -> None:
        """Delete what the ledger knows of ``address`` by name, keeping ``digest`` (a keyed
        hash) so that it stays left out; copies sent to it keep the hash, not the address."""
        address = address.lower()
        hidden = f"erased:{digest}"
        for table, column in (("members", "address"), ("preferences", "address"),
                              ("suppressed", "address"), ("bounces", "address")):
            self._write(f"DELETE FROM {table} WHERE {column} = ?", (address,))  # noqa: S608
        for table in ("deliveries", "audience", "notes"):
            self._write(f"UPDATE {table} SET recipient = ? WHERE recipient = ?",  # noqa: S608
                        (hidden, address))
        self._write("UPDATE handled SET what = replace(what, ?, ?)", (address, hidden))
        self._write("INSERT OR IGNORE INTO erased (digest, at) VALUES (?, ?)",
                    (digest, self._stamp()))
        self.db.execute("VACUUM")  # no deleted page keeps the address either

    def erased(self) -> frozenset[str]:
        """The keyed hashes of the people whose data was erased."""
        return frozenset(str(r[0]) for r in self._read("SELECT digest FROM erased", ()))
