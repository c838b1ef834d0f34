# SPDX-License-Identifier: EUPL-1.2
"""The gateway serving HTTPS itself ([gateway] tls_cert and tls_key).

A self-signed certificate made here; the gateway must answer over TLS, send
HSTS on its pages, refuse plain HTTP on that port, and refuse to start with
a TLS key that others can read.

usage: test_tls.py BUILD_DIR
"""
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

BUILD = None


def make_cert(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


class TLSGateway(unittest.TestCase):
    def test_https_pages_and_hsts(self):
        gw = gwtest.Gateway(BUILD)
        try:
            cert, key = make_cert(gw.dir)
            with open(gw.conf_path) as f:
                conf = f.read()
            https = gw.url.replace("http://", "https://")
            conf = conf.replace("public_url = " + gw.url, "public_url = " + https)
            conf = conf.replace("[gateway]\n", "[gateway]\ntls_cert = %s\ntls_key = %s\n" % (cert, key), 1)
            with open(gw.conf_path, "w") as f:
                f.write(conf)
            log = open(gw.log_path, "ab")
            gw.proc = subprocess.Popen([gw.prog("gateway"), "-f", "-c", gw.conf_path], stdout=log, stderr=log)
            log.close()
            r = None
            for _ in range(100):
                r = subprocess.run(["curl", "-sS", "--cacert", cert, https + "/healthz"],
                                   capture_output=True, text=True)
                if r.returncode == 0:
                    break
                time.sleep(0.1)
            self.assertEqual(r.returncode, 0, "no HTTPS answer: %s\n%s" % (r.stderr, gw.log()))
            self.assertEqual(r.stdout.strip(), "ok")
            page = gw.curl(https + "/d/" + "A" * 56, "--cacert", cert)
            self.assertEqual(page.status, 404)
            self.assertIn("max-age=", page.header("strict-transport-security") or "")
            # plain HTTP on the TLS port gets no page
            plain = subprocess.run(["curl", "-sS", "--max-time", "5", gw.url + "/healthz"],
                                   capture_output=True, text=True)
            self.assertNotEqual(plain.stdout.strip(), "ok")
            self.assertEqual(gw.stop(), 0, gw.log())
            # a TLS key readable by others: refused, with the fix in the message
            os.chmod(key, 0o644)
            r = subprocess.run([gw.prog("gateway"), "-t", "-c", gw.conf_path], capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("chmod 600", r.stderr)
        finally:
            gw.stop()
            gw.cleanup()


if __name__ == "__main__":
    BUILD = sys.argv.pop(1)
    unittest.main(verbosity=2)
