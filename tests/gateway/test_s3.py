#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""test_s3 - the recipient side with [storage] driver = s3, against a real Ceph RGW.

Starts a one-machine Ceph cluster with a RADOS Gateway (tests/s3/ceph-rgw.sh),
prepares the bucket (bestanden storage init), stores a package in it through the
S3 driver (tests/gateway/mkpackage.c) and reads it back through a gateway that
has no embedded store: the page, whole files, ranges, the zip, an expired and a
revoked link. A second gateway points at a dead endpoint: its pages must be the
503 page, and a forged link still the 404 (no storage asked). Ceph not starting
is a failure, never a skip; Ceph is always stopped.

usage: test_s3.py BUILD_DIR
"""
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

CEPH = os.path.join(gwtest.SRC, "tests", "s3", "ceph-rgw.sh")


def check(ok, what):
    if not ok:
        raise AssertionError(what)
    print("ok:", what)


def main(build):
    ceph_dir = tempfile.mkdtemp(prefix="bd-gw-s3-")
    gws = []
    try:
        p = subprocess.run([CEPH, "start", os.path.join(ceph_dir, "ceph")], capture_output=True)
        if p.returncode != 0:
            raise RuntimeError("Ceph RGW did not start:\n" + p.stderr.decode(errors="replace")[-4000:])
        env = dict(line.split("=", 1) for line in
                   open(os.path.join(ceph_dir, "ceph", "s3.env")).read().split() if "=" in line)
        s3 = {"driver": "s3", "s3_endpoint": env["S3_ENDPOINT"], "s3_region": env["S3_REGION"],
              "s3_bucket": "bestanden-gw-test", "s3_access_key": env["S3_ACCESS_KEY"],
              "s3_secret_key_file": env["S3_SECRET_FILE"], "timeout": "20s"}
        gw = gwtest.Gateway(build, storage=s3)
        gws.append(gw)
        gw.run([gw.prog("cli"), "-c", gw.conf_path, "storage", "init", "--create-bucket"])
        gw.start()
        big = os.urandom(3_000_000)
        small = b"hallo\n"
        with open(os.path.join(gw.dir, "big"), "wb") as f:
            f.write(big)
        with open(os.path.join(gw.dir, "small"), "wb") as f:
            f.write(small)
        files = [(os.path.join(gw.dir, "big"), "Bouwtekening.pdf", "application/pdf"),
                 (os.path.join(gw.dir, "small"), "notitie.txt", "text/plain")]
        link, package, _ = gw.package(files)

        r = gw.curl(link)
        check(r.status == 200 and "Bouwtekening.pdf" in r.text and "3,0 MB" in r.text, "landing page from S3")
        check(gw.curl(gw.url + "/v1/objects/%s/0" % package).status == 404,
              "no object API when S3 holds the objects")
        r = gw.curl(link + "/1")
        check(r.status == 200 and r.body == big, "whole file from S3")
        r = gw.curl(link + "/1", headers={"Range": "bytes=65530-200000"})
        check(r.status == 206 and r.body == big[65530:200001], "range across chunks from S3")
        r = gw.curl(link + "/all")
        z = zipfile.ZipFile(io.BytesIO(r.body))
        check(r.status == 200 and z.read("Bouwtekening.pdf") == big and z.read("notitie.txt") == small,
              "zip from S3")
        expired, _, _ = gw.package(files, lifetime=-60)
        check(gw.curl(expired).status == 410, "expired link: 410")
        gw.run([gw.prog("cli"), "-c", gw.conf_path, "revoke", link])
        check(gw.curl(link).status == 404, "revoked link: 404")
        check(gw.curl(link + "/1").status == 404, "revoked file: 404")

        # storage unreachable: 503, but a forged link never asks storage
        dead = dict(s3, s3_endpoint="http://127.0.0.1:%d" % gwtest.free_port(), retries="0",
                    connect_timeout="1s")
        gw2 = gwtest.Gateway(build, storage=dead)
        gws.append(gw2)
        shutil.rmtree(gw2.keys)
        shutil.copytree(gw.keys, gw2.keys)  # the same keys: genuine links
        gw2.start()
        live, _, _ = gw.package(files)
        token = live.rsplit("/", 1)[1]
        r = gw2.curl(gw2.url + "/d/" + token)
        check(r.status == 503 and r.header("retry-after") == "60", "storage down: 503 with Retry-After")
        r = gw2.curl(gw2.url + "/d/" + token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
        check(r.status == 404, "storage down, forged link: still 404")
        m = gw2.metrics()
        check(m['bestanden_errors_total{kind="storage"}'] >= 1, "storage error counted")
    finally:
        failures = []
        for g in gws:
            rc = g.stop()
            if rc != 0:
                failures.append("gateway exited with %d:\n%s" % (rc, g.log()[-3000:]))
            g.cleanup()
        subprocess.run([CEPH, "stop", os.path.join(ceph_dir, "ceph")], capture_output=True)
        shutil.rmtree(ceph_dir, ignore_errors=True)
        if failures:
            raise AssertionError("\n".join(failures))
    print("OK")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: test_s3.py BUILD_DIR")
    sys.exit(main(os.path.abspath(sys.argv[1])))
