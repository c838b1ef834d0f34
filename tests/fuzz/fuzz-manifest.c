/*
 * fuzz-manifest.c - libFuzzer target for manifest parsing.
 *
 * Every input goes to bd_manifest_parse_header, bd_manifest_open (which must
 * refuse it: nobody can forge the body without the keys) and the body decoder
 * of each version (2, then 1); a body that decodes must re-encode to the same
 * bytes and survive a seal and open with real keys unchanged (a version 1 body
 * is sealed as version 2, so it comes back as the version 2 body of the same
 * content).
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_keys.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const struct bd_keyring *kr, const struct bd_manifest *m0,
                      const uint8_t *body, size_t len)
{
	struct bd_package_keys *keys = bd_package_keys_new(), *k2 = NULL;
	struct bd_manifest *m = bd_manifest_new(), *o = NULL;
	uint8_t *again, *sealed, *body2;
	size_t alen, slen, blen;
	struct bd_error err;

	if (bd_manifest_body_encode(m0, &again, &alen, &err) < 0 || alen != len ||
	    memcmp(again, body, len) != 0)
		abort(); /* decoding accepted something encoding would not produce */
	free(again);
	/* the same content inside a real sealed manifest */
	m->sender = m0->sender;
	m->message_id = m0->message_id;
	m->nfiles = m0->nfiles;
	m->files = m0->files;
	m->nrecipients = m0->nrecipients;
	m->recipients = m0->recipients;
	m->protection = m0->protection;
	memcpy(m->package_id, keys->id, BD_PACKAGE_ID_BYTES);
	m->link_key_id = m->gateway_key_id = 1;
	if (bd_manifest_seal(m, keys, bd_keyring_gateway_public(kr, 1), &sealed, &slen, &err) < 0)
		abort();
	if (bd_manifest_open(sealed, slen, keys->secret, kr, &o, &k2, &err) < 0 ||
	    o->version != BD_MANIFEST_VERSION)
		abort();
	o->version = m0->version; /* compare in the input's layout */
	if (bd_manifest_body_encode(o, &body2, &blen, &err) < 0 || blen != len ||
	    memcmp(body2, body, len) != 0)
		abort();
	free(body2);
	free(sealed);
	bd_manifest_free(&o);
	bd_package_keys_free(&k2);
	bd_package_keys_free(&keys);
	m->sender = m->message_id = NULL;
	m->files = NULL;
	m->nfiles = 0;
	m->recipients = NULL;
	m->nrecipients = 0;
	m->protection.access_code_hash = NULL;
	bd_manifest_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bd_keyring *kr;
	static const uint8_t secret[BD_SECRET_BYTES];
	struct bd_manifest_header h;
	struct bd_manifest *m = NULL;
	struct bd_package_keys *keys = NULL;
	struct bd_error err;

	if (kr == NULL)
		kr = fuzz_keyring(BD_NEED_GATEWAY_PUBLIC | BD_NEED_GATEWAY_SECRET);
	(void)bd_manifest_parse_header(data, size, &h, &err);
	if (bd_manifest_open(data, size, secret, kr, &m, &keys, &err) == 0)
		abort(); /* an input opened without the package's keys */
	if (m != NULL || keys != NULL)
		abort();
	for (unsigned version = BD_MANIFEST_VERSION; version >= 1; version--) {
		m = bd_manifest_new();
		m->version = version;
		if (bd_manifest_body_decode(data, size, m, &err) == 0)
			roundtrip(kr, m, data, size);
		bd_manifest_free(&m);
	}
	return 0;
}
