/*
 * store_s3.c - the "s3" driver: any S3-compatible store, signed with
 * libcurl's CURLOPT_AWS_SIGV4 plus the workarounds 7.88 needs (unsigned
 * payload header, query parameters pre-sorted, "=" after bare
 * sub-resources, known body sizes). GET, HEAD, DELETE and small PUTs are
 * http_object.c's; objects from s3_multipart_threshold up go as a multipart
 * upload of s3_part_size parts, each buffered so it can be retried (any
 * failure aborts the upload). Listings use ListObjectsV2 with start-after,
 * parsed by libxml2. Its init creates the bucket and the lifecycle rules.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include "store-private.h"
#include "http.h"
#include "keys.h"
#include "mem.h"

#include <glib.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <libxml/tree.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_MAX    256
#define MAX_PARTS     10000
#define LIST_BODY_MAX (16 * 1024 * 1024)

struct s3 {
	struct bd_http_backend
	        b; /* first (http.h); base: the bucket's URL; secret: "ACCESS:SECRET" */
	char *bucket;
	char sigv4[160];
	uint64_t threshold, part_size;
};

static int s3_setup(void *ctx, CURL *c)
{
	struct s3 *s = ctx;

	if (curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERPWD, s->b.secret) != CURLE_OK)
		return -1;
	return 0;
}

static struct curl_slist *add_header(struct curl_slist *l, const char *h)
{
	struct curl_slist *n = curl_slist_append(l, h);

	if (n == NULL) {
		fprintf(stderr, "bestanden: out of memory building a request\n");
		abort();
	}
	return n;
}

/* Every request: the payload is not hashed (workaround 1). */
static void request_sign(struct s3 *s, struct bd_http_request *rq, char *url)
{
	rq->url = url;
	rq->headers = add_header(rq->headers, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	rq->setup = s3_setup;
	rq->setup_ctx = s;
}

static void request_init(struct s3 *s, struct bd_http_request *rq, const char *method, char *url)
{
	memset(rq, 0, sizeof(*rq));
	rq->method = method;
	request_sign(s, rq, url);
}

static void request_done(struct bd_http_request *rq, struct bd_http_response *resp)
{
	curl_slist_free_all(rq->headers);
	free((char *)rq->url);
	bd_http_response_free(resp);
}

static xmlDocPtr xml_parse(const char *body, size_t len)
{
	if (body == NULL || len == 0 || len > INT32_MAX)
		return NULL;
	/* No network, no entity substitution, no DTD loading. */
	return xmlReadMemory(body, (int)len, "s3.xml", NULL,
	                     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* The text of the first element called NAME anywhere under NODE, or NULL (xmlFree it). */
static xmlChar *xml_find(xmlNodePtr node, const char *name)
{
	for (; node != NULL; node = node->next) {
		xmlChar *t;

		if (node->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcmp(node->name, (const xmlChar *)name) == 0)
			return xmlNodeGetContent(node);
		t = xml_find(node->children, name);
		if (t != NULL)
			return t;
	}
	return NULL;
}

/* An error answer's <Code> ("SignatureDoesNotMatch") into BUF, or NULL when it has none. */
static const char *s3_detail(const struct bd_http_response *resp, char *buf, size_t size)
{
	xmlDocPtr doc = xml_parse(resp->body, resp->body_len);
	xmlChar *code = doc ? xml_find(xmlDocGetRootElement(doc), "Code") : NULL;

	buf[0] = '\0';
	if (code != NULL)
		snprintf(buf, size, "(%s)", (const char *)code);
	xmlFree(code);
	xmlFreeDoc(doc);
	return buf[0] ? buf : NULL;
}

static int s3_error(const struct bd_http_response *resp, const char *what, struct bd_error *err)
{
	char detail[128];

	return bd_http_status_error(resp, what, s3_detail(resp, detail, sizeof(detail)), err);
}

static char *object_url(const struct s3 *s, const char *name, const char *query)
{
	return bd_asprintf("%s/%s%s%s", s->b.base, name, query ? "?" : "", query ? query : "");
}

/* A copy of RQ to object NAME, signed; *RESP is the caller's. */
static int s3_perform(void *impl, const char *name, const struct bd_http_request *rq,
                      struct bd_http_response *resp, struct bd_error *err)
{
	struct s3 *s = impl;
	struct bd_http_request full = *rq; /* headers: none of the caller's */
	int rv;

	request_sign(s, &full, object_url(s, name, NULL));
	rv = bd_http_perform(s->b.http, &full, resp, err);
	curl_slist_free_all(full.headers);
	free((char *)full.url);
	return rv;
}

static const struct bd_http_objects s3_objects = {s3_perform, s3_detail};

static void abort_upload(struct s3 *s, const char *name, const char *upload_id)
{
	struct bd_http_request rq;
	struct bd_http_response resp;
	struct bd_error ignored;
	char q[512];

	snprintf(q, sizeof(q), "uploadId=%s", upload_id);
	request_init(s, &rq, "DELETE", object_url(s, name, q));
	bd_http_perform(s->b.http, &rq, &resp, &ignored); /* the lifecycle rule is the backstop */
	request_done(&rq, &resp);
}

static char *start_upload(struct s3 *s, const char *name, struct bd_error *err)
{
	struct bd_http_request rq;
	struct bd_http_response resp;
	char *id = NULL;

	request_init(s, &rq, "POST", object_url(s, name, "uploads="));
	rq.max_body = 64 * 1024;
	if (bd_http_perform(s->b.http, &rq, &resp, err) == 0) {
		if (resp.status == 200) {
			xmlDocPtr doc = xml_parse(resp.body, resp.body_len);
			xmlChar *t = doc ? xml_find(xmlDocGetRootElement(doc), "UploadId") : NULL;

			if (t != NULL && t[0] != '\0') {
				char enc[512];

				bd_http_url_encode(enc, sizeof(enc), (const char *)t);
				id = bd_strdup(enc);
			} else {
				bd_error_set(
				        err, BD_E_STORAGE,
				        "starting a multipart upload: no UploadId in the answer");
			}
			xmlFree(t);
			xmlFreeDoc(doc);
		} else {
			s3_error(&resp, "POST ?uploads", err);
		}
	}
	request_done(&rq, &resp);
	return id;
}

static int read_exactly(struct bd_source *src, uint8_t *buf, size_t len, uint64_t done,
                        uint64_t total, struct bd_error *err)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = src->read(src->ctx, buf + got, len - got);

		if (r < 0)
			return bd_error_set(err, BD_E_IO, "reading the upload source failed");
		if (r == 0)
			return bd_error_set(
			        err, BD_E_INVALID, "the source ended after %llu of %llu bytes",
			        (unsigned long long)(done + got), (unsigned long long)total);
		got += (size_t)r;
	}
	return 0;
}

static int put_multipart(struct s3 *s, const char *name, struct bd_source *src, uint64_t length,
                         struct bd_error *err)
{
	uint64_t part = s->part_size, done = 0;
	unsigned nparts, i;
	GString *complete;
	uint8_t *buf;
	char *id;
	int rv = -1;

	if ((length + part - 1) / part > MAX_PARTS) /* S3 allows 10000 parts: grow them */
		part = (length + MAX_PARTS - 1) / MAX_PARTS;
	nparts = (unsigned)((length + part - 1) / part);
	id = start_upload(s, name, err);
	if (id == NULL)
		return -1;
	buf = bd_malloc((size_t)part);
	complete = g_string_new("<CompleteMultipartUpload>");
	for (i = 1; i <= nparts; i++) {
		size_t n = (size_t)(length - done < part ? length - done : part);
		struct bd_http_request rq;
		struct bd_http_response resp;
		char q[640];
		int ok = 0;

		if (read_exactly(src, buf, n, done, length, err) < 0)
			break;
		snprintf(q, sizeof(q), "partNumber=%u&uploadId=%s", i,
		         id); /* sorted (workaround 2) */
		request_init(s, &rq, "PUT", object_url(s, name, q));
		rq.body = buf;
		rq.body_len = n;
		if (bd_http_perform(s->b.http, &rq, &resp, err) == 0) {
			if (resp.status != 200)
				s3_error(&resp, "PUT part", err);
			else if (resp.etag[0] == '\0')
				bd_error_set(err, BD_E_STORAGE,
				             "PUT part %u: the answer has no ETag", i);
			else
				ok = 1;
		}
		if (ok) {
			gchar *etag = g_markup_escape_text(resp.etag, -1);

			g_string_append_printf(
			        complete, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>",
			        i, etag);
			g_free(etag);
		}
		request_done(&rq, &resp);
		if (!ok) {
			bd_error_prefix(err, "part %u of %u", i, nparts);
			break;
		}
		done += n;
	}
	if (i > nparts) {
		struct bd_http_request rq;
		struct bd_http_response resp;
		char q[600];

		g_string_append(complete, "</CompleteMultipartUpload>");
		snprintf(q, sizeof(q), "uploadId=%s", id);
		request_init(s, &rq, "POST", object_url(s, name, q));
		rq.headers = add_header(rq.headers, "Content-Type: application/xml");
		rq.body = (const uint8_t *)complete->str;
		rq.body_len = complete->len;
		rq.max_body = 64 * 1024;
		if (bd_http_perform(s->b.http, &rq, &resp, err) == 0) {
			/* A 200 answer may still carry an <Error> (S3 decides late). */
			if (resp.status == 200 &&
			    (resp.body == NULL || strstr(resp.body, "<Error>") == NULL))
				rv = 0;
			else
				s3_error(&resp, "completing the multipart upload", err);
		}
		request_done(&rq, &resp);
	}
	if (rv < 0)
		abort_upload(s, name, id);
	g_string_free(complete, TRUE);
	free(buf);
	free(id);
	return rv;
}

static int s3_put(void *impl, const char *name, struct bd_source *src, uint64_t length,
                  struct bd_error *err)
{
	struct s3 *s = impl;

	if (length >= s->threshold)
		return put_multipart(s, name, src, length, err);
	return bd_http_object_put(s, name, src, length, err);
}

/* One ListObjectsV2 page: CB for each Contents; *truncated from IsTruncated. */
static int list_page(xmlNodePtr root, char *last, size_t lastsize,
                     int (*cb)(void *ctx, const char *name, uint64_t size), void *ctx,
                     int *truncated, int *stopped, struct bd_error *err)
{
	*truncated = 0;
	for (xmlNodePtr n = root ? root->children : NULL; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcmp(n->name, (const xmlChar *)"IsTruncated") == 0) {
			xmlChar *t = xmlNodeGetContent(n);

			*truncated = t != NULL && xmlStrcmp(t, (const xmlChar *)"true") == 0;
			xmlFree(t);
		} else if (xmlStrcmp(n->name, (const xmlChar *)"Contents") == 0 && !*stopped) {
			xmlChar *key = xml_find(n->children, "Key");
			xmlChar *size = xml_find(n->children, "Size");
			char *end = NULL;
			unsigned long long sz = size ? strtoull((const char *)size, &end, 10) : 0;
			int ok = key != NULL && size != NULL && end != (char *)size && *end == '\0';

			/* Keys that are not ours (other tools' objects) are skipped, not fatal. */
			if (ok && bd_store_name_valid((const char *)key)) {
				snprintf(last, lastsize, "%s", (const char *)key);
				if (cb(ctx, (const char *)key, sz) != 0)
					*stopped = 1;
			} else if (ok && strlen((const char *)key) < lastsize) {
				snprintf(last, lastsize, "%s", (const char *)key);
			}
			xmlFree(key);
			xmlFree(size);
			if (!ok)
				return bd_error_set(err, BD_E_STORAGE,
				                    "list: malformed <Contents> in the answer");
		}
	}
	return 0;
}

static int s3_list(void *impl, const char *prefix,
                   int (*cb)(void *ctx, const char *name, uint64_t size), void *ctx,
                   struct bd_error *err)
{
	struct s3 *s = impl;
	char last[1024 + 1] = "";
	int stopped = 0, truncated = 1, rv = 0;

	while (truncated && !stopped && rv == 0) {
		struct bd_http_request rq;
		struct bd_http_response resp;
		char p[3 * BD_STORE_NAME_MAX + 1], a[3 * sizeof(last) + 1];

		bd_http_url_encode(p, sizeof(p), prefix);
		bd_http_url_encode(a, sizeof(a), last);
		/* Parameters in sorted order (workaround 2); start-after avoids opaque tokens. */
		request_init(s, &rq, "GET",
		             bd_asprintf("%s/?list-type=2&prefix=%s%s%s", s->b.base, p,
		                         last[0] ? "&start-after=" : "", last[0] ? a : ""));
		rq.max_body = LIST_BODY_MAX;
		if (bd_http_perform(s->b.http, &rq, &resp, err) < 0) {
			rv = -1;
		} else if (resp.status != 200) {
			rv = s3_error(&resp, "list", err);
		} else {
			xmlDocPtr doc = xml_parse(resp.body, resp.body_len);

			if (doc == NULL)
				rv = bd_error_set(err, BD_E_STORAGE, "list: the answer is not XML");
			else
				rv = list_page(xmlDocGetRootElement(doc), last, sizeof(last), cb,
				               ctx, &truncated, &stopped, err);
			xmlFreeDoc(doc);
			if (rv == 0 && truncated && last[0] == '\0')
				rv = bd_error_set(err, BD_E_STORAGE,
				                  "list: truncated answer without keys");
		}
		request_done(&rq, &resp);
	}
	return rv;
}

static void s3_close(void *impl)
{
	struct s3 *s = impl;

	bd_http_backend_clear(&s->b);
	free(s->bucket);
	free(s);
}

static const struct bd_store_ops s3_ops = {
        "s3",    s3_put,  bd_http_object_get, bd_http_object_head, bd_http_object_delete,
        s3_list, s3_close};

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser(); /* once, before threads parse */
}

/* The driver's state from SETTINGS, the keys it needs known to be set (store_drivers.c). */
static struct s3 *s3_new(const struct bd_conf_storage *settings, struct bd_error *err)
{
	const char *ep = settings->s3_endpoint, *host = strstr(ep, "://");
	struct s3 *s;
	char *secret;
	size_t n;

	if (host == NULL) {
		bd_error_set(err, BD_E_CONFIG, "s3 store: s3_endpoint %s is not a URL", ep);
		return NULL;
	}
	host += 3;
	if (settings->s3_addressing == BD_S3_VIRTUAL &&
	    (host[0] == '[' || strspn(host, "0123456789.") == strcspn(host, ":/"))) {
		bd_error_set(err, BD_E_CONFIG,
		             "s3 store: virtual-host addressing puts the bucket in the "
		             "host name; s3_endpoint %s is an IP address (use path)",
		             ep);
		return NULL;
	}
	if (strchr(settings->s3_access_key, ':') != NULL) {
		bd_error_set(err, BD_E_CONFIG,
		             "s3 store: [storage] s3_access_key cannot contain ':'");
		return NULL;
	}
	pthread_once(&xml_once, xml_init);
	secret = bd_secret_file_read(settings->s3_secret_key_file, SECRET_MAX, err);
	if (secret == NULL) {
		bd_error_prefix(err, "s3 store: secret key");
		return NULL;
	}
	s = bd_calloc(1, sizeof(*s));
	s->b.api = &s3_objects;
	n = strlen(settings->s3_access_key) + 1 + strlen(secret) + 1;
	s->b.secret = bd_secret_alloc(n);
	snprintf(s->b.secret, n, "%s:%s", settings->s3_access_key, secret);
	bd_secret_free(secret);
	snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", settings->s3_region);
	s->bucket = bd_strdup(settings->s3_bucket);
	if (settings->s3_addressing == BD_S3_VIRTUAL)
		s->b.base = bd_asprintf("%.*s%s.%s", (int)(host - ep), ep, s->bucket, host);
	else
		s->b.base = bd_asprintf("%s/%s", ep, s->bucket);
	s->threshold = settings->s3_multipart_threshold;
	s->part_size = settings->s3_part_size;
	s->b.http = bd_store_http_new(settings);
	return s;
}

struct bd_store *bd_store_s3_open(const struct bd_conf_storage *settings, struct bd_error *err)
{
	struct s3 *s = s3_new(settings, err);

	return s ? bd_store_new(&s3_ops, s) : NULL;
}

/* PUT with an XML body on the bucket itself, QUERY like "lifecycle=". */
static int bucket_put(struct s3 *s, const char *query, const char *xml, int want_md5,
                      struct bd_http_response *resp, struct bd_error *err)
{
	struct bd_http_request rq;
	int rv;

	request_init(s, &rq, "PUT",
	             bd_asprintf("%s/%s%s", s->b.base, query ? "?" : "", query ? query : ""));
	rq.body = (const uint8_t *)xml;
	rq.body_len = strlen(xml);
	if (want_md5) { /* PutBucketLifecycleConfiguration insists on Content-MD5 */
		GChecksum *md5 = g_checksum_new(G_CHECKSUM_MD5);
		guint8 digest[16];
		gsize dlen = sizeof(digest);
		gchar *b64;
		char h[64];

		g_checksum_update(md5, (const guchar *)xml, (gssize)rq.body_len);
		g_checksum_get_digest(md5, digest, &dlen);
		g_checksum_free(md5);
		b64 = g_base64_encode(digest, dlen);
		snprintf(h, sizeof(h), "Content-MD5: %s", b64);
		g_free(b64);
		rq.headers = add_header(rq.headers, h);
		rq.headers = add_header(rq.headers, "Content-Type: application/xml");
	}
	rq.max_body = 64 * 1024;
	rv = bd_http_perform(s->b.http, &rq, resp, err);
	curl_slist_free_all(rq.headers);
	free((char *)rq.url);
	return rv;
}

int bd_store_s3_init(const struct bd_conf_storage *settings, int create_bucket,
                     unsigned expire_days, struct bd_error *err)
{
	struct s3 *s = s3_new(settings, err);
	struct bd_http_response resp = {0};
	char *xml;
	int rv = -1;

	if (s == NULL)
		return -1;
	if (create_bucket) {
		char *body =
		        strcmp(settings->s3_region, "us-east-1") == 0
		                ? bd_strdup("")
		                : bd_asprintf("<CreateBucketConfiguration><LocationConstraint>%s"
		                              "</LocationConstraint></CreateBucketConfiguration>",
		                              settings->s3_region);
		int ok = bucket_put(s, NULL, body, 0, &resp, err) == 0;

		free(body);
		if (ok && resp.status / 100 != 2 &&
		    !(resp.status == 409 && resp.body &&
		      strstr(resp.body, "BucketAlreadyOwnedByYou"))) {
			s3_error(&resp, "creating the bucket", err);
			ok = 0;
		}
		bd_http_response_free(&resp);
		if (!ok) {
			bd_error_prefix(err, "s3 store: bucket %s", s->bucket);
			goto out;
		}
	}
	xml = bd_asprintf(
	        "<LifecycleConfiguration>"
	        "<Rule><ID>bestanden-expire</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</"
	        "Status>"
	        "<Expiration><Days>%u</Days></Expiration></Rule>"
	        "<Rule><ID>bestanden-abort-incomplete-uploads</ID><Filter><Prefix></Prefix></"
	        "Filter>"
	        "<Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1"
	        "</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>"
	        "</LifecycleConfiguration>",
	        expire_days);
	if (bucket_put(s, "lifecycle=", xml, 1, &resp, err) == 0) { /* "=" (workaround 3) */
		if (resp.status / 100 == 2)
			rv = 0;
		else
			s3_error(&resp, "PUT ?lifecycle", err);
	}
	free(xml);
	bd_http_response_free(&resp);
	if (rv < 0)
		bd_error_prefix(err, "s3 store: bucket %s: lifecycle rules", s->bucket);
out:
	s3_close(s);
	return rv;
}
