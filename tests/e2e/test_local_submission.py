# SPDX-License-Identifier: EUPL-1.2
"""Local submission with a real Postfix: `sendmail -t` goes through postdrop and
pickup, and cleanup hands it to non_smtpd_milters as client 127.0.0.1 (there is
no SMTP client). With [milter] internal_networks as docs/ADMIN.md sets it
(loopback included) the PDF is replaced by a link and the milter's log line
says which rule made the message outgoing; without loopback the same mail is
inbound and passes unchanged, as the troubleshooting table says.

usage: test_local_submission.py BUILD_DIR
"""
import os
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailtools as mt  # noqa: E402
from stack import Stack  # noqa: E402

BUILD = None
SENDER = "medewerker@bestanden.test"
OUTSIDE = "huurder@example.org"
DOCUMENTED_NETWORKS = "127.0.0.0/8, ::1/128, 192.0.2.0/24"  # docs/ADMIN.md, 2. Configure


class LocalSubmission(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(BUILD, conf_extra={
            ("milter", "internal_networks"): DOCUMENTED_NETWORKS}).start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop(keep=os.environ.get("BD_KEEP_TEST_DIR") == "1")

    def sendmail(self, subject, pdf):
        raw = mt.message(SENDER, [OUTSIDE], subject, "Beste huurder,\n\nZie bijlage.\n",
                         [("jaaropgave.pdf", "application", "pdf", pdf)])
        etc = os.path.join(self.stack.postfix_dir, "etc")
        before = set(self.stack.delivered())
        r = subprocess.run(["sendmail", "-C", etc, "-t", "-f", SENDER], input=raw,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        # pickup scans the maildrop when postdrop pokes it; wait for the sink
        deadline = time.time() + 90
        while time.time() < deadline:
            new = [f for f in self.stack.delivered() if f not in before]
            if new:
                self.stack.wait_written(new[0])
                with open(new[0], "rb") as f:
                    return f.read()
            time.sleep(0.2)
        self.fail("no delivery of the sendmail -t message; maillog:\n" +
                  self.stack.maillog()[-3000:])

    def milter_line(self, queue_log_before):
        lines = self.stack.log("milter")[len(queue_log_before):].splitlines()
        found = [l for l in lines if "queue_id=" in l and "direction=" in l]
        self.assertEqual(len(found), 1, "expected one milter line, got %r" % found)
        return found[0]

    def test_1_sendmail_through_pickup_is_rewritten(self):
        pdf = b"%PDF-1.4\n" + os.urandom(120000)
        log_before = self.stack.log("milter")
        out = self.sendmail("Uw jaaropgave", pdf)
        msg = mt.parse(out)
        self.assertEqual(mt.attachments(msg), [], "the PDF is still attached")
        links = mt.links(msg)
        self.assertEqual(len(links), 1, links)
        got = mt.fetch(self.stack.prog("cli"), self.stack.conf, links.pop())
        self.assertEqual([mt.sha(v) for v in got.values()], [mt.sha(pdf)])
        line = self.milter_line(log_before)
        self.assertIn("direction=outgoing rule=internal-network action=rewritten", line)
        qid = re.search(r"queue_id=([0-9A-F]{6,})", line)
        self.assertTrue(qid, line)
        # it came through pickup, not smtpd
        self.assertTrue(re.search(r"postfix/pickup\[\d+\]: %s: uid=" % qid.group(1),
                                  self.stack.maillog()), self.stack.maillog()[-2000:])

    def test_2_without_loopback_it_is_inbound(self):
        with open(self.stack.conf) as f:
            text = f.read()
        with open(self.stack.conf, "w") as f:
            f.write(text.replace("internal_networks = " + DOCUMENTED_NETWORKS,
                                 "internal_networks = 192.0.2.0/24"))
        self.stack.procs["milter"].send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "event=reloaded" not in self.stack.log("milter") and time.time() < deadline:
            time.sleep(0.1)
        log_before = self.stack.log("milter")
        out = self.sendmail("Nog een jaaropgave", b"%PDF-1.4\n" + os.urandom(5000))
        self.assertEqual(len(mt.attachments(mt.parse(out))), 1)
        line = self.milter_line(log_before)
        self.assertIn("direction=inbound action=unchanged reason=external-client", line)


if __name__ == "__main__":
    BUILD = sys.argv.pop(1)
    unittest.main(verbosity=2)
