#!/usr/bin/env python3
# SPDX-License-Identifier: EUPL-1.2
"""make_tnef.py - TNEF (winmail.dat) test files, written from the format itself.

TNEF is a signature (0x223E9F78), a key, then attributes: level (1 message,
2 attachment), id (type << 16 | number), length, data, checksum (the data's
bytes summed, 16 bits), all little-endian. An attachment starts with
attAttachRenddata; attAttachTitle is its 8.3 name, attAttachData its bytes,
attAttachment its MAPI properties (here the long name, UTF-16, and the type).

usage: make_tnef.py DIR   writes DIR/winmail.dat, DIR/message.eml (a mail
       carrying it) and DIR/expected.tsv (index, name, type, file) with every
       inner file as DIR/files/N.
"""
import base64
import os
import struct
import sys

SIGNATURE = 0x223E9F78
LVL_MESSAGE, LVL_ATTACHMENT = 1, 2
ATT_TNEF_VERSION = 0x00089006
ATT_OEM_CODEPAGE = 0x00069007
ATT_RENDDATA = 0x00069002
ATT_TITLE = 0x00018010
ATT_DATA = 0x0006800F
ATT_ATTACHMENT = 0x00069005
PT_STRING8, PT_UNICODE = 0x1E, 0x1F
PR_ATTACH_LONG_FILENAME, PR_ATTACH_MIME_TAG = 0x3707, 0x370E


def attribute(level, att, data):
    return (struct.pack('<BII', level, att, len(data)) + data +
            struct.pack('<H', sum(data) & 0xFFFF))


def mapi_string(prop_type, prop_id, value):
    pad = b'\0' * (-len(value) % 4)
    return struct.pack('<III', prop_type | prop_id << 16, 1, len(value)) + value + pad


def tnef(files):
    """FILES: dicts with title (bytes), data (bytes), optional long_name (str), mime (str)."""
    out = struct.pack('<IH', SIGNATURE, 0x0001)
    out += attribute(LVL_MESSAGE, ATT_TNEF_VERSION, struct.pack('<I', 0x00010000))
    out += attribute(LVL_MESSAGE, ATT_OEM_CODEPAGE, struct.pack('<II', 1252, 0))
    for f in files:
        out += attribute(LVL_ATTACHMENT, ATT_RENDDATA,
                         struct.pack('<HIHHI', 1, 0xFFFFFFFF, 0xFFFF, 0xFFFF, 0))
        out += attribute(LVL_ATTACHMENT, ATT_TITLE, f['title'] + b'\0')
        out += attribute(LVL_ATTACHMENT, ATT_DATA, f['data'])
        props = []
        if 'long_name' in f:
            props.append(mapi_string(PT_UNICODE, PR_ATTACH_LONG_FILENAME,
                                     (f['long_name'] + '\0').encode('utf-16-le')))
        if 'mime' in f:
            props.append(mapi_string(PT_STRING8, PR_ATTACH_MIME_TAG,
                                     f['mime'].encode() + b'\0'))
        if props:
            out += attribute(LVL_ATTACHMENT, ATT_ATTACHMENT,
                             struct.pack('<I', len(props)) + b''.join(props))
    return out


# The sample: a long UTF-16 name with a type, an 8.3 name in Windows-1252, plain text
# with bare LF and CRLF; binary content with every byte value.
SAMPLE = [
    {'title': b'JAARVE~1.PDF', 'long_name': 'Jaarverslag 2026 – concept.pdf',
     'mime': 'application/pdf',
     'data': b'%PDF-1.4\n' + bytes(range(256)) * 8 + b'\n%%EOF\n'},
    {'title': b'caf\xe9.doc', 'data': b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1' + bytes(range(255, -1, -1)) * 3},
    {'title': b'notities.txt', 'data': b'regel een\r\nregel twee\nregel drie\r\n'},
]
# What bestanden names and types them (the sanitised name, the type sent or guessed).
SAMPLE_EXPECTED = [
    ('Jaarverslag 2026 – concept.pdf', 'application/pdf'),
    ('café.doc', 'application/msword'),
    ('notities.txt', 'text/plain'),
]


def message(winmail):
    b64 = base64.encodebytes(winmail).decode()
    return ('From: Anna de Vries <anna@woonstichting.example>\r\n'
            'To: Bert Jansen <bert@elders.example>\r\n'
            'Subject: Stukken uit Outlook\r\n'
            'Date: Tue, 10 Nov 2026 10:00:00 +0100\r\n'
            'Message-ID: <winmail-files@woonstichting.example>\r\n'
            'MIME-Version: 1.0\r\n'
            'Content-Type: multipart/mixed; boundary="=-tnef"\r\n'
            '\r\n'
            '--=-tnef\r\n'
            'Content-Type: text/plain; charset=us-ascii\r\n'
            '\r\n'
            'Hallo Bert,\r\n\r\nDe stukken zitten in de bijlage.\r\n\r\nAnna\r\n'
            '\r\n'
            '--=-tnef\r\n'
            'Content-Type: application/ms-tnef; name="winmail.dat"\r\n'
            'Content-Disposition: attachment; filename="winmail.dat"\r\n'
            'Content-Transfer-Encoding: base64\r\n'
            '\r\n' + b64.replace('\n', '\r\n') +
            '\r\n--=-tnef--\r\n').encode()


def main(directory):
    winmail = tnef(SAMPLE)
    os.makedirs(os.path.join(directory, 'files'), exist_ok=True)
    with open(os.path.join(directory, 'winmail.dat'), 'wb') as f:
        f.write(winmail)
    with open(os.path.join(directory, 'message.eml'), 'wb') as f:
        f.write(message(winmail))
    with open(os.path.join(directory, 'expected.tsv'), 'w', encoding='utf-8') as tsv:
        for i, (f, (name, ctype)) in enumerate(zip(SAMPLE, SAMPLE_EXPECTED), 1):
            with open(os.path.join(directory, 'files', str(i)), 'wb') as out:
                out.write(f['data'])
            tsv.write(f'{i}\t{name}\t{ctype}\n')


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
