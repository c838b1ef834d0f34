/*
 * test_keys.c - key generation, loading, rotation, removal and every refusal.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "keys.h"
#include "mem.h"

struct fixture {
	char dir[64];
	char path[256];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/bd-test-keys-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	strcat(f->dir, "/keys"); /* keygen creates the directory itself */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	*strrchr(f->dir, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static const char *file(struct fixture *f, const char *name)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	return f->path;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void test_generate_modes(void **state)
{
	struct fixture *f = *state;
	struct bd_error err;

	assert_int_equal(bd_keys_generate(f->dir, &err), 0);
	assert_int_equal(mode_of(f->dir), 0700);
	assert_int_equal(mode_of(file(f, "link-1.key")), 0600);
	assert_int_equal(mode_of(file(f, "gateway-1.key")), 0600);
	assert_int_equal(mode_of(file(f, "store.token")), 0600);
	assert_int_equal(mode_of(file(f, "gateway-1.pub")), 0644);
	assert_int_equal(mode_of(file(f, "current")), 0644);
	/* a second keygen must not overwrite existing keys */
	assert_int_equal(bd_keys_generate(f->dir, &err), -1);
	assert_non_null(strstr(err.msg, "already holds keys"));
}

static void test_load_and_keypair_match(void **state)
{
	struct fixture *f = *state;
	struct bd_error err;
	struct bd_keyring *all, *pub;
	uint8_t derived[crypto_scalarmult_BYTES];

	assert_int_equal(bd_keys_generate(f->dir, &err), 0);
	all = bd_keyring_load(f->dir, BD_NEED_LINK | BD_NEED_GATEWAY_SECRET, &err);
	assert_non_null(all);
	pub = bd_keyring_load(f->dir, BD_NEED_GATEWAY_PUBLIC, &err);
	assert_non_null(pub);
	assert_int_equal(bd_keyring_current(all, BD_KEY_LINK), 1);
	assert_int_equal(bd_keyring_current(all, BD_KEY_GATEWAY), 1);
	assert_non_null(bd_keyring_link_key(all, 1));
	assert_null(bd_keyring_link_key(all, 2));
	assert_null(bd_keyring_link_key(pub, 1)); /* not asked for */
	assert_null(bd_keyring_gateway_secret(pub, 1));
	/* the .pub file is the public half of the .key file */
	crypto_scalarmult_base(derived, bd_keyring_gateway_secret(all, 1));
	assert_memory_equal(derived, bd_keyring_gateway_public(pub, 1), sizeof(derived));
	bd_keyring_free(&all);
	bd_keyring_free(&pub);
	assert_null(all);
}

static void test_refuse_readable_secret(void **state)
{
	struct fixture *f = *state;
	static const char *secrets[] = {"link-1.key", "gateway-1.key", "store.token"};
	struct bd_error err;

	assert_int_equal(bd_keys_generate(f->dir, &err), 0);
	for (size_t i = 0; i < 3; i++) {
		for (mode_t m = 0640; m <= 0644; m += 4) {
			struct bd_keyring *kr;
			char *tok;

			assert_int_equal(chmod(file(f, secrets[i]), m), 0);
			if (i < 2) {
				kr = bd_keyring_load(f->dir, BD_NEED_LINK | BD_NEED_GATEWAY_SECRET,
				                     &err);
				assert_null(kr);
			} else {
				tok = bd_secret_file_read(file(f, secrets[i]), 256, &err);
				assert_null(tok);
			}
			assert_int_equal(err.code, BD_E_KEY);
			assert_non_null(strstr(err.msg, "readable by group or others"));
			assert_non_null(strstr(err.msg, "chmod 600"));
			assert_non_null(strstr(err.msg, secrets[i]));
		}
		assert_int_equal(chmod(file(f, secrets[i]), 0600), 0);
	}
	/* the milter needs no secret gateway key: a readable .key does not stop it */
	assert_int_equal(chmod(file(f, "gateway-1.key"), 0644), 0);
	struct bd_keyring *kr =
	        bd_keyring_load(f->dir, BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC, &err);
	assert_non_null(kr);
	bd_keyring_free(&kr);
}

/* Every group and other bit counts, not only the group's read bit: 0604 is readable by
 * everyone, 0620 lets the group replace the key. */
static void test_refuse_any_group_or_other_bit(void **state)
{
	struct fixture *f = *state;
	static const mode_t modes[] = {0604, 0620, 0602, 0610, 0601};
	static const char *secrets[] = {"link-1.key", "gateway-1.key", "store.token"};
	struct bd_error err;

	assert_int_equal(bd_keys_generate(f->dir, &err), 0);
	for (size_t i = 0; i < 3; i++) {
		for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
			assert_int_equal(chmod(file(f, secrets[i]), modes[m]), 0);
			if (i < 2) {
				struct bd_keyring *kr = bd_keyring_load(
				        f->dir, BD_NEED_LINK | BD_NEED_GATEWAY_SECRET, &err);

				assert_null(kr);
			} else {
				assert_null(bd_secret_file_read(file(f, secrets[i]), 256, &err));
			}
			assert_int_equal(err.code, BD_E_KEY);
			assert_non_null(strstr(err.msg, "chmod 600"));
			assert_non_null(
			        strstr(err.msg, modes[m] == 0604 ? "readable" : "writable"));
		}
		assert_int_equal(chmod(file(f, secrets[i]), 0600), 0);
	}
}

static void test_rotate_and_remove(void **state)
{
	struct fixture *f = *state;
	struct bd_error err;
	struct bd_keyring *kr;
	struct bd_key_info info[8];
	uint8_t old_link[BD_LINK_KEY_BYTES];

	assert_int_equal(bd_keys_generate(f->dir, &err), 0);
	kr = bd_keyring_load(f->dir, BD_NEED_LINK, &err);
	memcpy(old_link, bd_keyring_link_key(kr, 1), sizeof(old_link));
	bd_keyring_free(&kr);

	assert_int_equal(bd_keys_rotate(f->dir, BD_KEY_LINK, &err), 2);
	assert_int_equal(bd_keys_rotate(f->dir, BD_KEY_GATEWAY, &err), 2);
	assert_int_equal(bd_keys_rotate(f->dir, BD_KEY_GATEWAY, &err), 3);
	kr = bd_keyring_load(f->dir, BD_NEED_LINK | BD_NEED_GATEWAY_SECRET | BD_NEED_GATEWAY_PUBLIC,
	                     &err);
	assert_non_null(kr);
	assert_int_equal(bd_keyring_current(kr, BD_KEY_LINK), 2);
	assert_int_equal(bd_keyring_current(kr, BD_KEY_GATEWAY), 3);
	/* old ids stay usable, unchanged */
	assert_memory_equal(bd_keyring_link_key(kr, 1), old_link, sizeof(old_link));
	assert_memory_not_equal(bd_keyring_link_key(kr, 2), old_link, sizeof(old_link));
	assert_non_null(bd_keyring_gateway_secret(kr, 1));
	bd_keyring_free(&kr);

	assert_int_equal(bd_keys_list(f->dir, info, 8, &err), 5);
	assert_int_equal(info[0].kind, BD_KEY_LINK);
	assert_false(info[0].current);
	assert_true(info[1].current);
	assert_int_equal(info[2].kind, BD_KEY_GATEWAY);
	assert_false(info[3].current);
	assert_int_equal(info[4].id, 3);
	assert_true(info[4].current);
	assert_true(info[4].has_secret);

	/* the current key cannot be removed; a retired one can, and then it is gone */
	assert_int_equal(bd_keys_remove(f->dir, BD_KEY_LINK, 2, &err), -1);
	assert_non_null(strstr(err.msg, "is current"));
	assert_int_equal(bd_keys_remove(f->dir, BD_KEY_GATEWAY, 1, &err), 0);
	assert_int_equal(access(file(f, "gateway-1.key"), F_OK), -1);
	assert_int_equal(access(file(f, "gateway-1.pub"), F_OK), -1);
	assert_int_equal(bd_keys_remove(f->dir, BD_KEY_GATEWAY, 1, &err), -1);
	assert_int_equal(err.code, BD_E_NOTFOUND);
	kr = bd_keyring_load(f->dir, BD_NEED_GATEWAY_SECRET, &err);
	assert_null(bd_keyring_gateway_secret(kr, 1));
	assert_non_null(bd_keyring_gateway_secret(kr, 2));
	bd_keyring_free(&kr);
}

/* A key directory given to the daemons' user: root's rotation makes the new files theirs. */
static void test_rotate_keeps_owner(void **state)
{
	struct fixture *f = *state;
	struct bd_error err;
	struct stat st;

	if (geteuid() != 0)
		fail_msg("this test needs root (chown)");
	assert_int_equal(bd_keys_generate(f->dir, &err), 0);
	assert_int_equal(chown(f->dir, 65534, 65534), 0);
	assert_int_equal(bd_keys_rotate(f->dir, BD_KEY_LINK, &err), 2);
	assert_int_equal(stat(file(f, "link-2.key"), &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 65534);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(file(f, "current"), &st), 0);
	assert_int_equal(st.st_uid, 65534);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

struct corrupt_case {
	const char *file;
	const char *text;
	const char *expect;
};

static void test_corrupt_files(void **state)
{
	struct fixture *f = *state;
	static const struct corrupt_case cases[] = {
	        {"link-1.key", "hello\n", "not a bestanden key file"},
	        {"link-1.key", "type: link\nid: 1\nkey: AAAA\n", "is not 32 bytes of base64"},
	        {"link-1.key", "type: link\nid: 1\nkey: !!!notbase64!!!\n",
	         "is not 32 bytes of base64"},
	        {"link-1.key",
	         "type: link\nid: 7\nkey: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	         "says id 7"},
	        {"link-1.key",
	         "type: gateway\nid: 1\nkey: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	         "holds a 'gateway' key, expected 'link'"},
	        {"link-1.key", "type: link\nid: 0\n", "key id must be 1..255"},
	        {"current", "link: 1\n", "no valid 'gateway:' line"},
	        {"current", "link: 9\ngateway: 1\n", "current link key"},
	};
	struct bd_error err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char cmd[160];
		struct bd_keyring *kr;

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		assert_int_equal(system(cmd), 0);
		assert_int_equal(bd_keys_generate(f->dir, &err), 0);
		write_text(file(f, cases[i].file), cases[i].text,
		           strcmp(cases[i].file, "current") == 0 ? 0644 : 0600);
		kr = bd_keyring_load(f->dir, BD_NEED_LINK | BD_NEED_GATEWAY_PUBLIC, &err);
		if (kr != NULL || strstr(err.msg, cases[i].expect) == NULL)
			fail_msg("case %zu: got '%s', expected '%s'", i, kr ? "(loaded)" : err.msg,
			         cases[i].expect);
	}
}

static void test_missing_dir(void **state)
{
	struct fixture *f = *state;
	struct bd_error err;

	assert_null(bd_keyring_load(f->dir, BD_NEED_LINK, &err));
	assert_non_null(strstr(err.msg, "bestanden keygen -d"));
	assert_int_equal(bd_keys_rotate(f->dir, BD_KEY_LINK, &err), -1);
}

static void test_secret_file_read(void **state)
{
	struct fixture *f = *state;
	struct bd_error err;
	char *s;

	assert_int_equal(bd_keys_generate(f->dir, &err), 0);
	s = bd_secret_file_read(file(f, "store.token"), 256, &err);
	assert_non_null(s);
	assert_int_equal(strlen(s), 43); /* 32 bytes, base64url without padding */
	assert_null(strchr(s, '\n'));
	bd_secret_free(s);
	write_text(file(f, "empty"), "\n", 0600);
	assert_null(bd_secret_file_read(file(f, "empty"), 256, &err));
	assert_non_null(strstr(err.msg, "is empty"));
	write_text(file(f, "big"), "0123456789012345678901234567890123456789\n", 0600);
	assert_null(bd_secret_file_read(file(f, "big"), 16, &err));
	assert_non_null(strstr(err.msg, "larger than"));
	char target[256];

	snprintf(target, sizeof(target), "%s", file(f, "store.token"));
	assert_int_equal(symlink(target, file(f, "link")), 0);
	assert_null(bd_secret_file_read(file(f, "link"), 256, &err));
}

/* The removal rule: retired when the next key of its kind was made, kept for KEEP after. */
static void test_needed_until(void **state)
{
	const struct bd_key_info info[] = {
	        {BD_KEY_LINK, 1, 100, 1, 0},
	        {BD_KEY_GATEWAY, 1, 1000, 0, 1},
	        {BD_KEY_GATEWAY, 2, 5000, 0, 1},
	        {BD_KEY_GATEWAY, 3, 9000, 1, 1},
	};
	time_t retired = 0;

	(void)state;
	/* gateway 1 retired at 5000 (gateway 2's birth), not at 9000 nor at the link key's */
	assert_int_equal(bd_keys_needed_until(info, 4, BD_KEY_GATEWAY, 1, 600, 5599, &retired),
	                 5600);
	assert_int_equal(retired, 5000);
	assert_int_equal(bd_keys_needed_until(info, 4, BD_KEY_GATEWAY, 1, 600, 5600, &retired), 0);
	assert_int_equal(bd_keys_needed_until(info, 4, BD_KEY_GATEWAY, 2, 600, 9599, &retired),
	                 9600);
	/* current, or not there: nothing for this rule to say */
	assert_int_equal(bd_keys_needed_until(info, 4, BD_KEY_GATEWAY, 3, 600, 0, &retired), 0);
	assert_int_equal(bd_keys_needed_until(info, 4, BD_KEY_GATEWAY, 7, 600, 0, &retired), 0);
}

static int has_file(const struct fixture *f, const char *name)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	return access(path, F_OK) == 0;
}

/* keys maintain: removal first (of what has expired), then rotation when due. */
static void test_maintain(void **state)
{
	struct fixture *f = *state;
	struct bd_keys_action done[8];
	struct bd_error err;
	size_t n = 9;
	time_t now = time(NULL);

	assert_int_equal(bd_keys_generate(f->dir, &err), 0);
	/* off, or not due yet: nothing */
	assert_int_equal(bd_keys_maintain(f->dir, 0, 60, now + 99999, done, 8, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(bd_keys_maintain(f->dir, 1000, 60, now + 500, done, 8, &n, &err), 0);
	/* due: gateway 2 is made current, gateway 1 stays (just retired), link keys untouched */
	assert_int_equal(bd_keys_maintain(f->dir, 1000, 60, now + 1000, done, 8, &n, &err), 1);
	assert_int_equal(done[0].removed, 0);
	assert_int_equal(done[0].id, 2);
	assert_true(has_file(f, "gateway-1.key"));
	assert_false(has_file(f, "link-2.key"));
	/* 60 s after gateway 2's birth, gateway 1 goes; gateway 2 is not due for rotation */
	assert_int_equal(bd_keys_maintain(f->dir, 1000, 60, now + 61, done, 8, &n, &err), 1);
	assert_int_equal(done[0].removed, 1);
	assert_int_equal(done[0].id, 1);
	assert_false(has_file(f, "gateway-1.key"));
	assert_false(has_file(f, "gateway-1.pub"));
	assert_true(has_file(f, "gateway-2.key"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_generate_modes, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_load_and_keypair_match, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_refuse_readable_secret, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_refuse_any_group_or_other_bit, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_rotate_and_remove, setup, teardown),
	        cmocka_unit_test(test_needed_until),
	        cmocka_unit_test_setup_teardown(test_maintain, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rotate_keeps_owner, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_corrupt_files, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_missing_dir, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_secret_file_read, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
