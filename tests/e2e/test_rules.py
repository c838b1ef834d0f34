# SPDX-License-Identifier: EUPL-1.2
"""End to end with a real Postfix: eight [rule NAME] sections that use every
condition and every action. Each test message lands where its rule says:
passed byte-identical, replaced with the rule's expiry date in the notice,
rejected with the rule's 5.7.x text as the SMTP client sees it, tempfailed.
The rules arrive by SIGHUP, and a SIGHUP with a broken rules file keeps them.
Afterwards the milter's /metrics counts every message under the rule that
decided it, with its action, exactly as many as were sent.

usage: test_rules.py BUILD_DIR
"""
import contextlib
import datetime
import os
import signal
import smtplib
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailtools as mt  # noqa: E402
from stack import Stack, free_port  # noqa: E402

BUILD = None
SENDER = "medewerker@bestanden.test"
FINANCE = "jan@financien.bestanden.test"
OUTSIDE = "huurder@example.org"
TAX = "aangifte@belastingdienst.nl"

RULES = """
[rule exe]
type = executable
extension = exe
action = block
reject_code = 5.7.1
reject_text = Programs are not sent by mail from here

[rule upload]
direction = outgoing
upload_request = yes
action = tempfail
reject_text = Upload requests are not handled yet; please try again later

[rule finance]
sender = *@financien.bestanden.test
recipient = belastingdienst.nl
external_recipients = all
max_size = 5M
max_total_size = 10M
action = pass

[rule inbound]
direction = inbound
action = pass

[rule sensitive]
sensitive = bsn, iban
action = replace
retention = 30d

[rule big]
min_size = 1M
max_attachments = 3
action = replace
retention = 3d

[rule many]
min_attachments = 4
min_total_size = 10K
action = replace
retention = 7d

[rule default]
action = replace
"""

MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december"]


def dutch_date(days):
    d = datetime.datetime.now() + datetime.timedelta(days=days)
    return "%d %s %d" % (d.day, MONTHS[d.month - 1], d.year)


def pe_bytes():
    head = bytearray(0x200)
    head[0:2] = b"MZ"
    head[0x3c] = 0x80
    head[0x80:0x84] = b"PE\0\0"
    return bytes(head) + os.urandom(4000)


def split(raw):
    """Header lines and body; smtp-sink stores LF line ends, SMTP carries CRLF."""
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    return head.split(b"\n"), body


class RulesEndToEnd(unittest.TestCase):
    maxDiff = 2000

    @classmethod
    def setUpClass(cls):
        # the rules decide about inbound and internal mail too
        cls.metrics_port = free_port()
        cls.stack = Stack(BUILD, conf_extra={("policy", "outgoing_only"): "no",
                                             ("policy", "skip_internal_only"): "no",
                                             ("requests", "subject_tags"): "[upload]",
                                             ("milter", "metrics_listen"):
                                             "127.0.0.1:%d" % cls.metrics_port}).start()
        cls.seen = 0
        with open(cls.stack.conf, "a") as f:
            f.write(RULES)
        cls.reload("event=reloaded")

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop(keep=os.environ.get("BD_KEEP_TEST_DIR") == "1")

    @classmethod
    def reload(cls, event):
        count = cls.stack.log("milter").count(event)
        cls.stack.procs["milter"].send_signal(signal.SIGHUP)
        deadline = time.time() + 15
        while cls.stack.log("milter").count(event) <= count:
            if time.time() > deadline:
                raise AssertionError("no %s in the milter log:\n%s" %
                                     (event, cls.stack.log("milter")[-3000:]))
            time.sleep(0.1)

    @contextlib.contextmanager
    def conf_changed(self, old, new, event):
        """The configuration with OLD replaced by NEW, sent by SIGHUP until EVENT is logged;
        the file as it was afterwards."""
        with open(self.stack.conf) as f:
            good = f.read()
        with open(self.stack.conf, "w") as f:
            f.write(good.replace(old, new))
        try:
            self.reload(event)
            yield
        finally:
            with open(self.stack.conf, "w") as f:
                f.write(good)

    def deliver(self, raw, rcpts, outgoing=True, sender=SENDER):
        before = set(self.stack.delivered())
        self.stack.send(raw, sender, rcpts, outgoing=outgoing)
        type(self).seen += 1
        files = self.stack.wait_delivered(self.seen)
        new = [f for f in files if f not in before]
        self.assertEqual(len(new), 1, "expected one new delivery, got %r" % new)
        with open(new[0], "rb") as f:
            return f.read()

    def refused(self, raw, rcpts, outgoing=True):
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            self.stack.send(raw, SENDER, rcpts, outgoing=outgoing)
        return cm.exception.smtp_code, cm.exception.smtp_error.decode()

    def milter_line(self, rule):
        lines = [l for l in self.stack.log("milter").splitlines() if "policy_rule=%s " % rule in l]
        self.assertTrue(lines, "no milter log line names rule %s:\n%s" %
                        (rule, self.stack.log("milter")[-2000:]))
        return lines[-1]

    def assert_passed(self, raw, out):
        """Every header line and the body as they were sent; nothing added by us."""
        sent_head, sent_body = split(raw)
        got_head, got_body = split(out)
        self.assertEqual(got_body[:len(sent_body)], sent_body, "the body changed")
        # smtp-sink's file ends with a line of its own
        self.assertIn(got_body[len(sent_body):], (b"", b"\n"))
        for line in sent_head:
            self.assertIn(line, got_head)
        self.assertNotIn(b"X-Bestanden", out)

    def assert_replaced(self, out, originals, days):
        msg = mt.parse(out)
        self.assertEqual(mt.attachments(msg), [], "attachments still in the message")
        links = mt.links(msg)
        self.assertEqual(len(links), 1)
        got = mt.fetch(self.stack.prog("cli"), self.stack.conf, links.pop())
        self.assertEqual(sorted(mt.sha(v) for v in got.values()),
                         sorted(mt.sha(d) for d in originals))
        text = "\n".join(p.get_content() for p in mt.text_parts(msg))
        self.assertTrue(dutch_date(days) in text or dutch_date(days + 1) in text,
                        "expiry %s not in the notice:\n%s" % (dutch_date(days), text))

    def pdf(self, n=20000):
        return b"%PDF-1.4\n" + os.urandom(n)

    def test_1_exe_renamed_pdf_is_rejected(self):
        raw = mt.message(SENDER, [OUTSIDE], "Factuur", "Zie bijlage.\n",
                         [("factuur.pdf", "application", "pdf", pe_bytes())])
        code, text = self.refused(raw, [OUTSIDE])
        self.assertEqual(code, 550)
        self.assertIn("5.7.1 Programs are not sent by mail from here", text)
        line = self.milter_line("exe")
        self.assertIn("action=reject", line)
        self.assertIn("policy_action=block", line)

    def test_2_upload_request_is_tempfailed(self):
        raw = mt.message(SENDER, [OUTSIDE], "Re: [UPLOAD] stukken", "Graag uw stukken.\n",
                         [("lijst.pdf", "application", "pdf", self.pdf())])
        code, text = self.refused(raw, [OUTSIDE])
        self.assertEqual(code, 451)
        self.assertIn("4.7.1 Upload requests are not handled yet", text)
        self.assertIn("policy_action=tempfail", self.milter_line("upload"))

    def test_3_finance_to_tax_office_passes_byte_identical(self):
        raw = mt.message(FINANCE, [TAX], "Aangifte", "Bijgaand de aangifte.\n",
                         [("aangifte.pdf", "application", "pdf", self.pdf(200000))])
        out = self.deliver(raw, [TAX], sender=FINANCE)
        self.assert_passed(raw, out)
        self.assertIn("policy_action=pass", self.milter_line("finance"))

    def test_4_inbound_passes(self):
        raw = mt.message(OUTSIDE, [SENDER], "Inkomend", "Hallo\n",
                         [("scan.pdf", "application", "pdf", self.pdf())])
        out = self.deliver(raw, [SENDER], outgoing=False, sender=OUTSIDE)
        self.assert_passed(raw, out)
        self.assertIn("policy_action=pass", self.milter_line("inbound"))

    def test_4z_inbound_log_line_names_the_direction(self):
        """The direction detection found, also when a rule decided."""
        line = self.milter_line("inbound")
        self.assertIn("direction=inbound action=unchanged", line)

    def test_5_bsn_is_replaced_for_30_days(self):
        data = self.pdf()
        raw = mt.message(SENDER, [OUTSIDE], "Dossier", "Het BSN is 111222333.\n",
                         [("dossier.pdf", "application", "pdf", data)])
        self.assert_replaced(self.deliver(raw, [OUTSIDE]), [data], 30)
        self.assertIn("action=rewritten", self.milter_line("sensitive"))

    def test_6_nine_digits_failing_the_check_are_no_bsn(self):
        data = self.pdf()
        raw = mt.message(SENDER, [OUTSIDE], "Dossier", "Kenmerk 111222334.\n",
                         [("dossier.pdf", "application", "pdf", data)])
        self.assert_replaced(self.deliver(raw, [OUTSIDE]), [data], 14)  # the default

    def test_7_iban_is_replaced_for_30_days(self):
        data = self.pdf()
        raw = mt.message(SENDER, [OUTSIDE], "Betaling", "Rekening NL91 ABNA 0417 1643 00.\n",
                         [("nota.pdf", "application", "pdf", data)])
        self.assert_replaced(self.deliver(raw, [OUTSIDE]), [data], 30)

    def test_8_big_attachment_is_replaced_for_3_days(self):
        data = self.pdf(1500000)
        raw = mt.message(SENDER, [OUTSIDE], "Tekening", "Zie bijlage.\n",
                         [("tekening.pdf", "application", "pdf", data)])
        self.assert_replaced(self.deliver(raw, [OUTSIDE]), [data], 3)
        self.assertIn("policy_rule=big", self.milter_line("big"))

    def test_9_many_attachments_are_replaced_for_7_days(self):
        files = [self.pdf(5000) for _ in range(4)]
        raw = mt.message(SENDER, [OUTSIDE], "Stukken", "Vier stukken.\n",
                         [("stuk%d.pdf" % i, "application", "pdf", d) for i, d in enumerate(files)])
        self.assert_replaced(self.deliver(raw, [OUTSIDE]), files, 7)

    def test_z_broken_rules_on_sighup_keep_the_old_ones(self):
        with self.conf_changed("extension = exe", "extenson = exe", "event=reload-failed"):
            self.assertIn("unknown condition or action 'extenson'", self.stack.log("milter"))
            raw = mt.message(SENDER, [OUTSIDE], "Factuur", "Zie bijlage.\n",
                             [("factuur.pdf", "application", "pdf", pe_bytes())])
            code, text = self.refused(raw, [OUTSIDE])
            self.assertEqual(code, 550)
            self.assertIn("5.7.1 Programs are not sent by mail from here", text)

    def scrape(self, path="/metrics", method="GET"):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.metrics_port, path),
                                     method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    def samples(self):
        status, headers, text = self.scrape()
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                series, value = line.rsplit(" ", 1)
                self.assertNotIn(series, out, "series twice")
                out[series] = int(value)
        return out

    def test_zz_metrics_count_each_rule_and_action(self):
        """After every test above: each message under the rule that decided it."""
        got = self.samples()
        sent = {("exe", "block"): 2,  # test_1 and test_z
                ("upload", "tempfail"): 1, ("finance", "pass"): 1, ("inbound", "pass"): 1,
                ("sensitive", "replace"): 2,  # the BSN and the IBAN
                ("big", "replace"): 1, ("many", "replace"): 1, ("default", "replace"): 1}
        rules = {k: v for k, v in got.items() if k.startswith("bestanden_milter_messages_total{")}
        self.assertEqual(rules, {'bestanden_milter_messages_total{rule="%s",action="%s"}' % k: n
                                 for k, n in sent.items()}, "by rule and action")
        for outcome, n in (("rewritten", 5), ("unchanged", 2), ("rejected", 2),
                           ("tempfailed", 1)):
            self.assertEqual(got['bestanden_milter_outcomes_total{outcome="%s"}' % outcome], n,
                             outcome)
        for reason in ("spool", "storage", "malformed", "timeout", "mta", "upload_request"):
            self.assertEqual(got['bestanden_milter_failures_total{reason="%s"}' % reason], 0)
        self.assertEqual(got["bestanden_milter_attachments_replaced_total"], 8)
        # pdf(n) is n + 9 bytes: three of 20000, one of 1500000, four of 5000
        self.assertEqual(got["bestanden_milter_stored_bytes_total"],
                         3 * 20009 + 1500009 + 4 * 5009)

    def test_zz_metrics_answers_get_only_and_only_there(self):
        status, headers, _ = self.scrape(method="POST")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET, HEAD")
        self.assertEqual(self.scrape(method="DELETE")[0], 405)
        self.assertEqual(self.scrape("/")[0], 404)
        self.assertEqual(self.scrape("/metrics/x")[0], 404)
        status, _, body = self.scrape(method="HEAD")
        self.assertEqual((status, body), (200, ""))

    def test_zz_reload_keeps_the_counts_and_removed_rules(self):
        """A rule a reload takes away keeps its count; a new one shows at 0."""
        before = self.samples()
        with self.conf_changed("[rule many]", "[rule veel]", "event=reloaded"):
            after = self.samples()
            many = 'bestanden_milter_messages_total{rule="many",action="replace"}'
            self.assertEqual(after[many], before[many])
            self.assertEqual(after['bestanden_milter_messages_total{rule="veel",action="replace"}'],
                             0)
            for series, n in before.items():
                self.assertEqual(after[series], n, series)


if __name__ == "__main__":
    BUILD = sys.argv.pop(1)
    unittest.main(verbosity=2)
