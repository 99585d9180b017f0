"""A relay's limits are not refusals: what each reply is about, as a table of real relays'
replies (a sending quota or rate, a refused sender, too many connections, or the recipient)."""

from __future__ import annotations

import pytest

from mailer.smtp.session import About, classify

EXCHANGE_TOO_MANY = ("421 4.3.2 The maximum number of concurrent connections has exceeded a "
                     "limit, closing transmission channel")

LIMIT, SENDER, RECIPIENT, UNSURE = About.LIMIT, About.SENDER, About.RECIPIENT, About.UNSURE
CONNECTIONS, CONNECTION = About.CONNECTIONS, About.CONNECTION

M365_QUOTA = ("554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed "
              "to process message due to a permanent exception with message [BeginDiagnosticData]"
              "Cannot submit message. 0.35250:0A002C84, 1.36674:0A000000 [Hostname="
              "AM6PR04MB1234.eurprd04.prod.outlook.com]")
GMAIL_LIMIT = ("550 5.4.5 Daily user sending limit exceeded. For more information on Gmail "
               "sending limits go to https://support.google.com/a/answer/166852")

# (relay, code, the text as smtplib hands it on (one line), what it is about)
REPLIES = [
    ("Microsoft 365", *M365_QUOTA.split(" ", 1), LIMIT),
    ("Microsoft 365", 550, "5.7.60 SMTP; Client does not have permissions to send as this "
                           "sender", SENDER),
    ("Microsoft 365", 530, "5.7.57 Client not authenticated to send mail. "
                           "[AM0PR01CA0123.eurprd01.prod.exchangelabs.com]", SENDER),
    ("Microsoft 365", 550, "5.1.8 Access denied, bad outbound sender. AS(42004)", SENDER),
    ("Microsoft 365", 550, "5.7.708 Service unavailable. Access denied, traffic not accepted "
                           "from this IP.", SENDER),
    ("Microsoft 365", 451, "4.7.500 Server busy. Please try again later from [203.0.113.5]. "
                           "(S77719)", LIMIT),
    ("Microsoft 365", *EXCHANGE_TOO_MANY.split(" ", 1), CONNECTIONS),
    ("Microsoft 365", 432, "4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded "
                           "[Hostname=AM6PR04MB1234.eurprd04.prod.outlook.com]", CONNECTIONS),
    ("Microsoft 365", 550, "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP "
                           "address lookup", RECIPIENT),
    ("Microsoft 365", 550, "5.4.1 Recipient address rejected: Access denied. AS(201806281)",
     RECIPIENT),
    ("Microsoft 365", 550, "5.7.1 RESOLVER.RST.AuthRequired; authentication required [Stage: "
                           "CreateMessage]", RECIPIENT),  # a group open to its members only
    ("Microsoft 365", 552, "5.2.2 STOREDRV.Deliver.Exception:QuotaExceededException."
                           "MapiExceptionShutoffQuotaExceeded; Failed to process message due to "
                           "a permanent exception", RECIPIENT),  # a full mailbox, not our quota
    ("Gmail", *GMAIL_LIMIT.split(" ", 1), LIMIT),
    ("Gmail", 550, "5.4.5 Daily user sending limit exceeded. For more information on Gmail "
                   "5.4.5 sending limits go to 5.4.5 https://support.google.com/a/answer/166852 "
                   "a1-20020a05600c000100b0040e4a7a7c6asm1234567wmb.1 - gsmtp", LIMIT),
    ("Gmail", 550, "5.4.5 Daily SMTP relay limit exceeded for user. For more information on "
                   "SMTP relay sending limits please contact your administrator", LIMIT),
    ("Gmail", 550, "5.7.1 Daily SMTP relay limit exceeded for customer. For more information "
                   "on SMTP relay sending limits please contact your administrator", LIMIT),
    ("Gmail", 550, "5.7.1 You have reached a limit for sending mail: your daily sending quota "
                   "is spent", LIMIT),
    ("Gmail", 421, "4.7.0 Try again later, closing connection. (EHLO) "
                   "a1-20020a05600c000100b0040e4a7a7c6asm1234567wmb.1 - gsmtp", LIMIT),
    ("Gmail", 421, "4.7.28 Gmail has detected an unusual rate of unsolicited mail originating "
                   "from your SPF domain. To protect our users from spam, mail sent from your "
                   "domain has been temporarily rate limited.", LIMIT),
    ("Gmail", 530, "5.7.0 Authentication Required. Learn more at "
                   "https://support.google.com/mail/?p=WantAuthError", SENDER),
    ("Gmail", 550, "5.7.0 Mail relay denied [203.0.113.5]. Invalid credentials for relay for "
                   "one of the domains in: example.org (as obtained from HELO and MAIL FROM).",
     SENDER),
    ("Gmail", 550, "5.7.26 This mail has been blocked because the sender is unauthenticated. "
                   "Gmail requires all senders to authenticate with either SPF or DKIM.", SENDER),
    ("Gmail", 550, "5.1.1 The email account that you tried to reach does not exist. Please try "
                   "double-checking the recipient's email address for typos or unnecessary "
                   "spaces.", RECIPIENT),
    ("Gmail", 550, "5.2.1 The email account that you tried to reach is disabled.", RECIPIENT),
    ("Gmail", 452, "4.2.2 The recipient's inbox is out of storage space. Please direct the "
                   "recipient to https://support.google.com/mail/?p=OverQuotaTemp", RECIPIENT),
    ("Gmail", 450, "4.2.1 The user you are trying to contact is receiving mail at a rate that "
                   "prevents additional messages from being delivered.", RECIPIENT),
    ("Yahoo", 421, "4.7.0 [TSS04] Messages from 203.0.113.5 temporarily deferred due to "
                   "unexpected volume or user complaints - 4.16.55.1; see "
                   "https://postmaster.yahooinc.com/error-codes", LIMIT),
    ("Yahoo", 553, "5.7.1 [BL21] Connections will not be accepted from 203.0.113.5, because the "
                   "ip is in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes",
     SENDER),
    ("Yahoo", 554, "5.7.9 Message not accepted for policy reasons. See "
                   "https://postmaster.yahooinc.com/error-codes", UNSURE),
    ("Yahoo", 552, "1 Requested mail action aborted, mailbox not found", RECIPIENT),
    ("Yahoo", 554, "delivery error: dd This user doesn't have a yahoo.com account "
                   "(someone@yahoo.com) [0] - mta1234.mail.gq1.yahoo.com", RECIPIENT),
    ("Yahoo", 550, "Request failed; Mailbox unavailable", UNSURE),
    ("Postfix", 452, "4.5.3 Error: too many recipients", LIMIT),
    ("Postfix", 450, "4.7.1 Error: too much mail from 203.0.113.5", LIMIT),
    ("Postfix", 450, "4.7.1 Error: too many recipients from 203.0.113.5", LIMIT),
    ("Postfix", 421, "4.7.0 mail.example.org Error: too many connections from 203.0.113.5",
     CONNECTIONS),
    ("Postfix", 554, "5.7.1 <lm-seminar@example.org>: Sender address rejected: Access denied",
     SENDER),
    ("Postfix", 553, "5.7.1 <lm-seminar@example.org>: Sender address rejected: not owned by "
                     "user seminar", SENDER),
    ("Postfix", 450, "4.1.8 <lm-seminar@example.org>: Sender address rejected: Domain not found",
     SENDER),
    ("Postfix", 454, "4.7.1 <person@example.net>: Relay access denied", SENDER),
    ("Postfix", 554, "5.7.1 Service unavailable; Client host [203.0.113.5] blocked using "
                     "zen.spamhaus.org", SENDER),
    ("Postfix", 550, "5.1.1 <person@example.org>: Recipient address rejected: User unknown in "
                     "virtual mailbox table", RECIPIENT),
    ("Postfix", 450, "4.2.0 <person@example.org>: Recipient address rejected: Greylisted, see "
                     "http://postgrey.schweikert.ch/help/example.org.html", RECIPIENT),
    ("Postfix", 552, "5.3.4 Message size exceeds fixed limit", UNSURE),
    ("Postfix", 421, "4.4.2 mail.example.org Error: timeout exceeded", CONNECTION),
    ("Postfix (rspamd)", 451, '4.7.1 Ratelimit "user" exceeded', LIMIT),
    ("Exim", 550, "Unrouteable address", RECIPIENT),
    ("Exim", 550, "relay not permitted", SENDER),
    ("Exim", 550, "Sender verify failed", SENDER),
    ("Exim", 421, "mail.example.org Too many concurrent SMTP connections from this IP address; "
                  "please try again later.", CONNECTIONS),
    ("Exim (cPanel)", 550, "Domain example.org has exceeded the max emails per hour (500/500 "
                           "(100%)) allowed. Message discarded.", LIMIT),
    ("Exim", 550, "Administrative prohibition", UNSURE),
    ("Exim", 451, "Temporary local problem - please try later", UNSURE),
    ("Amazon SES", 454, "Throttling failure: Maximum sending rate exceeded.", LIMIT),
    ("Amazon SES", 454, "Throttling failure: Daily message quota exceeded.", LIMIT),
    ("Amazon SES", 554, "Message rejected: Email address is not verified. The following "
                        "identities failed the check in region EU-WEST-1: "
                        "lm-seminar@example.org", SENDER),
    ("Amazon SES", 454, "Temporary service failure", UNSURE),
    ("a relay", 550, "5.7.0 Message rejected: Daily message limit exceeded", LIMIT),
    ("SendGrid", 451, "Authentication failed: Maximum credits exceeded", LIMIT),
    ("SendGrid", 452, "Too many recipients received this hour (throttled)", LIMIT),
    ("SendGrid", 421, "Message from (203.0.113.5) temporarily deferred", LIMIT),
    ("SendGrid", 550, "Unauthenticated senders not allowed", SENDER),
    ("SendGrid", 550, "The from address does not match a verified Sender Identity. Mail cannot "
                      "be sent until this error is resolved.", SENDER),
    ("SendGrid", 550, "Requested action not taken: mailbox unavailable", UNSURE),
    ("Mailgun", 421, "Domain sandbox123.mailgun.org is not allowed to send: Sandbox subdomains "
                     "are for test purposes only. Please add your own domain or add the address "
                     "to authorized recipients in Account Settings.", SENDER),
    ("Mailgun", 421, "Domain mail.example.org is not allowed to send: recipient limit exceeded, "
                     "try again after Mon, 25 Aug 2025 07:00:31 UTC", LIMIT),
    ("Mailgun", 421, "Domain mail.example.org is not allowed to send: Account disabled", SENDER),
    ("Mailgun", 421, "#4.4.5 Too many connections from your host.", CONNECTIONS),
    ("per connection", 421, "4.4.2 closing: too many messages on this connection", CONNECTION),
    ("announce", 553, "5.6.7 the address needs SMTPUTF8, which relay:25 does not offer",
     RECIPIENT),
    ("announce", 553, "5.6.7 the sender's address needs SMTPUTF8, which relay:25 does not offer",
     SENDER),
    ("any", 250, "2.0.0 OK queued as 4Tq2bX0v5Zz9", About.TAKEN),
]


@pytest.mark.parametrize(("relay", "code", "text", "expected"), REPLIES,
                         ids=[f"{relay}-{code}-{text[:40]}" for relay, code, text, _ in REPLIES])
def test_what_a_relays_reply_is_about(relay: str, code: int | str, text: str,
                                      expected: About) -> None:
    assert classify(int(code), text) == expected, (relay, code, text)
