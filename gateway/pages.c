/*
 * pages.c - server-rendered pages for recipients (see pages.h): one layout,
 * the texts of both languages compiled in, every value HTML-escaped, no
 * JavaScript and nothing from elsewhere. The style sits inline and the CSP
 * admits exactly it by its SHA-256 hash; the optional logo is served as /logo.
 */
#include "pages.h"
#include "log.h"
#include "mem.h"
#include "format.h"
#include "html.h"

#include <ctype.h>
#include <errno.h>
#include <glib.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define LOGO_MAX (512 * 1024)

struct gw_pages {
	char *organisation;
	char *base_path; /* path part of [gateway] public_url: "" or "/prefix" */
	uint8_t *logo;
	size_t logo_len;
	const char *logo_type;
	char csp[256];
};

/* One language's words. {org}, {n}, {date} are filled in, already escaped. */
struct texts {
	const char *lang;
	const char *other_lang, *other_name, *switch_label;
	const char *title;
	const char *heading;
	const char *lead_one, *lead_many;
	const char *until;
	const char *files_label;
	const char *download;
	const char *download_all;
	const char *footer;
	const char *logo_alt;
	struct {
		const char *title, *heading, *text, *detail;
	} err[5]; /* by enum gw_page */
};

/* The words, laid out for reading rather than by the formatter. */
// clang-format off
static const struct texts nl = {
	.lang = "nl",
	.other_lang = "en",
	.other_name = "English",
	.switch_label = "Language",
	.title = "Bestanden van {org}",
	.heading = "U hebt bestanden ontvangen",
	.lead_one = "{org} heeft u 1 bestand gestuurd via een beveiligde downloadlink.",
	.lead_many = "{org} heeft u {n} bestanden gestuurd via een beveiligde downloadlink.",
	.until = "Beschikbaar tot {date}",
	.files_label = "Bestanden",
	.download = "Downloaden",
	.download_all = "Alles downloaden (zip)",
	.footer = "De bestanden zijn versleuteld opgeslagen en worden na {date} verwijderd. "
		  "Deze pagina gebruikt geen cookies.",
	.logo_alt = "Logo van {org}",
	.err = {
		[GW_PAGE_EXPIRED] = {"Link verlopen", "Deze link is verlopen",
				     "Vraag de afzender om de bestanden opnieuw te sturen.",
				     "De bestanden waren beschikbaar tot {date} en zijn niet meer te "
				     "downloaden."},
		[GW_PAGE_NOT_FOUND] = {"Link werkt niet", "Deze link werkt niet",
				       "Controleer of u de hele link uit het bericht hebt gebruikt. Werkt "
				       "hij dan nog niet, vraag de afzender om de bestanden opnieuw te "
				       "sturen.",
				       NULL},
		[GW_PAGE_UNAVAILABLE] = {"Tijdelijk niet beschikbaar", "Even geduld",
					 "De bestanden zijn op dit moment niet bereikbaar. Probeer het "
					 "over een paar minuten opnieuw.",
					 NULL},
		[GW_PAGE_ERROR] = {"Er ging iets mis", "Er ging iets mis",
				   "Probeer het later opnieuw. Lukt het dan nog niet, neem contact op met "
				   "de afzender.",
				   NULL},
		[GW_PAGE_TOO_MANY] = {"Te veel pogingen", "Te veel pogingen",
				      "Vanaf uw adres zijn te veel ongeldige links geprobeerd. Wacht een "
				      "minuut en probeer het opnieuw.",
				      NULL},
	},
};

static const struct texts en = {
	.lang = "en",
	.other_lang = "nl",
	.other_name = "Nederlands",
	.switch_label = "Taal",
	.title = "Files from {org}",
	.heading = "You have received files",
	.lead_one = "{org} sent you 1 file through a secure download link.",
	.lead_many = "{org} sent you {n} files through a secure download link.",
	.until = "Available until {date}",
	.files_label = "Files",
	.download = "Download",
	.download_all = "Download all (zip)",
	.footer = "The files are stored encrypted and will be deleted after {date}. "
		  "This page uses no cookies.",
	.logo_alt = "{org} logo",
	.err = {
		[GW_PAGE_EXPIRED] = {"Link expired", "This link has expired",
				     "Ask the sender to send the files again.",
				     "The files were available until {date} and can no longer be "
				     "downloaded."},
		[GW_PAGE_NOT_FOUND] = {"Link does not work", "This link does not work",
				       "Check that you used the whole link from the message. If it still "
				       "does not work, ask the sender to send the files again.",
				       NULL},
		[GW_PAGE_UNAVAILABLE] = {"Temporarily unavailable", "Please wait a moment",
					 "The files cannot be reached right now. Please try again in a "
					 "few minutes.",
					 NULL},
		[GW_PAGE_ERROR] = {"Something went wrong", "Something went wrong",
				   "Please try again later. If it still fails, contact the sender.", NULL},
		[GW_PAGE_TOO_MANY] = {"Too many attempts", "Too many attempts",
				      "Too many invalid links were tried from your address. Wait a minute "
				      "and try again.",
				      NULL},
	},
};
// clang-format on

static const struct texts *texts_for(const char *lang)
{
	return strcmp(lang, "en") == 0 ? &en : &nl;
}

/* Kept in one piece: its hash goes into the Content-Security-Policy. */
static const char style[] =
        ":root{color-scheme:light;--ink:#17212b;--muted:#4b5865;--line:#d9dfe5;--bg:#f2f4f6;"
        "--card:#fff;--accent:#0b5cad;--accent-dark:#07467f;--focus:#f0b400}"
        "*{box-sizing:border-box}"
        "html{-webkit-text-size-adjust:100%;text-size-adjust:100%}"
        "body{margin:0;background:var(--bg);color:var(--ink);"
        "font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica "
        "Neue\",Arial,sans-serif}"
        ".wrap{max-width:46rem;margin:0 auto;padding:1rem 1rem 2rem}"
        ".top{display:flex;align-items:center;justify-content:space-between;gap:1rem;"
        "padding:.5rem 0 1rem}"
        ".org{display:flex;align-items:center;gap:.75rem;font-weight:650;font-size:1.125rem;"
        "min-width:0;overflow-wrap:anywhere}"
        ".org img{display:block;max-height:2.5rem;max-width:10rem;width:auto;height:auto}"
        ".lang a{display:inline-block;padding:.5rem .25rem;color:var(--accent);font-weight:600;"
        "text-underline-offset:.2em}"
        "main{background:var(--card);border:1px solid var(--line);border-radius:12px;"
        "padding:1.75rem 1.5rem;box-shadow:0 1px 2px rgba(16,24,32,.06)}"
        "h1{font-size:1.625rem;line-height:1.25;margin:0 0 .5rem;letter-spacing:-.01em}"
        "p{margin:0 0 .5rem}"
        ".lead{font-size:1.0625rem}"
        ".until{display:inline-flex;align-items:center;gap:.5rem;margin:.5rem 0 0;"
        "padding:.25rem .75rem;border-radius:1rem;background:#e7f0f9;color:#0a3f73;"
        "font-weight:600;font-size:.9375rem}"
        ".files{list-style:none;margin:1.5rem 0 0;padding:0;border-top:1px solid var(--line)}"
        ".file{display:flex;flex-wrap:wrap;align-items:center;gap:.75rem 1rem;padding:1rem 0;"
        "border-bottom:1px solid var(--line)}"
        ".badge{flex:none;display:flex;align-items:flex-end;justify-content:center;width:2.75rem;"
        "height:3.25rem;padding-bottom:.45rem;border-radius:4px 14px 4px 4px;background:#e7f0f9;"
        "border:1px solid #c4d6ea;color:#0a3f73;font-size:.6875rem;font-weight:700;"
        "letter-spacing:.04em}"
        ".meta{flex:1 1 10rem;min-width:0}"
        ".name{margin:0;font-size:1rem;font-weight:600;overflow-wrap:anywhere}"
        ".detail{margin:.125rem 0 0;color:var(--muted);font-size:.9375rem}"
        ".btn{display:inline-flex;align-items:center;justify-content:center;gap:.5rem;"
        "min-height:2.75rem;padding:.5rem 1.25rem;border:2px solid var(--accent);border-radius:8px;"
        "background:var(--accent);color:#fff;font-weight:600;text-decoration:none;white-space:"
        "nowrap}"
        ".btn:hover{background:var(--accent-dark);border-color:var(--accent-dark)}"
        ".btn.second{background:#fff;color:var(--accent)}"
        ".btn.second:hover{background:#e7f0f9}"
        "a:focus-visible{outline:3px solid var(--focus);outline-offset:2px;border-radius:4px}"
        ".all{margin:1.25rem 0 0}"
        ".icon{display:block;width:3rem;height:3rem;margin:0 0 1rem}"
        ".muted{color:var(--muted)}"
        "footer{padding:1rem .25rem;color:var(--muted);font-size:.875rem}"
        ".vh{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;"
        "clip:rect(0 0 0 0);white-space:nowrap;border:0}"
        "@media (max-width:32rem){.wrap{padding:.75rem .75rem 1.5rem}main{padding:1.25rem 1rem}"
        "h1{font-size:1.375rem}.file .btn,.all .btn{flex:1 1 100%;width:100%}}";

/* Sizes and dates come from notice.h, so the page says what the message said. */

const char *gw_pages_zip_name(const char *lang)
{
	return strcmp(lang, "en") == 0 ? "attachments.zip" : "bijlagen.zip";
}

/* ---- language ---- */

static int lang_known(const char *s, size_t n)
{
	return n == 2 && (strncasecmp(s, "nl", 2) == 0 || strncasecmp(s, "en", 2) == 0);
}

const char *gw_pages_language(const char *arg, const char *accept, const char *def)
{
	const char *best = NULL;
	double best_q = 0;

	if (arg != NULL && (strcmp(arg, "nl") == 0 || strcmp(arg, "en") == 0))
		return strcmp(arg, "en") == 0 ? "en" : "nl";
	/* "en-GB,en;q=0.9,nl;q=0.8": the primary subtag with the highest q; ties go to the first.
	 */
	for (const char *p = accept; p != NULL && *p;) {
		size_t n, tag;
		double q = 1.0;
		const char *semi;

		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, ",");
		tag = strcspn(p, "-;, ");
		if (tag > n)
			tag = n;
		semi = memchr(p, ';', n);
		if (semi != NULL) {
			/* within this entry only: a search to the end of the header would make
			 * a long one of many ";" entries cost quadratic time */
			const char *qs = memmem(semi, (size_t)(p + n - semi), "q=", 2);

			if (qs != NULL)
				q = strtod(qs + 2, NULL);
		}
		if (lang_known(p, tag) && q > best_q) {
			best_q = q;
			best = strncasecmp(p, "en", 2) == 0 ? "en" : "nl";
		}
		p += n;
	}
	if (best != NULL)
		return best;
	/* auto: Dutch only for a browser that asks for it */
	return strcmp(def, "nl") == 0 ? "nl" : "en";
}

/* ---- HTML building ---- */

struct vars {
	const char *org;
	const char *date;
	size_t n;
};

/* Text with {org}, {date} and {n} filled in; the text itself is trusted markup-free prose. */
static void put_text(GString *out, const char *text, const struct vars *v)
{
	while (*text) {
		if (strncmp(text, "{org}", 5) == 0) {
			bd_html_append_escaped(out, v->org ? v->org : "");
			text += 5;
		} else if (strncmp(text, "{date}", 6) == 0) {
			bd_html_append_escaped(out, v->date ? v->date : "");
			text += 6;
		} else if (strncmp(text, "{n}", 3) == 0) {
			g_string_append_printf(out, "%zu", v->n);
			text += 3;
		} else {
			g_string_append_c(out, *text++);
		}
	}
}

static void put_head(const struct gw_pages *p, GString *out, const struct texts *t,
                     const char *title, const struct vars *v)
{
	g_string_append_printf(out, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n", t->lang);
	g_string_append(out,
	                "<meta charset=\"utf-8\">\n"
	                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	                "<meta name=\"robots\" content=\"noindex, nofollow\">\n"
	                "<meta name=\"referrer\" content=\"no-referrer\">\n"
	                "<link rel=\"icon\" href=\"data:,\">\n<title>");
	put_text(out, title, v);
	g_string_append(out, "</title>\n<style>");
	g_string_append(out, style);
	g_string_append(out,
	                "</style>\n</head>\n<body>\n<div class=\"wrap\">\n<header class=\"top\">\n"
	                "<div class=\"org\">");
	if (p->logo != NULL) {
		g_string_append(out, "<img src=\"");
		bd_html_append_escaped(out, p->base_path);
		g_string_append(out, "/logo\" alt=\"");
		put_text(out, t->logo_alt, v);
		g_string_append(out, "\">");
	}
	g_string_append(out, "<span>");
	bd_html_append_escaped(out, p->organisation);
	g_string_append(out, "</span></div>\n");
	/* The switch keeps the path (and so the link) and changes only the language. */
	g_string_append_printf(out,
	                       "<nav class=\"lang\" aria-label=\"%s\"><a href=\"?lang=%s\" "
	                       "hreflang=\"%s\" lang=\"%s\">%s</a></nav>\n</header>\n<main>\n",
	                       t->switch_label, t->other_lang, t->other_lang, t->other_lang,
	                       t->other_name);
}

static void put_foot(GString *out, const struct texts *t, const struct vars *v, int with_footer)
{
	g_string_append(out, "</main>\n");
	if (with_footer) {
		g_string_append(out, "<footer><p>");
		put_text(out, t->footer, v);
		g_string_append(out, "</p></footer>\n");
	}
	g_string_append(out, "</div>\n</body>\n</html>\n");
}

/* Up to four letters of the extension, upper case, for the file badge. */
static void badge_text(const char *name, char out[8])
{
	const char *dot = strrchr(name, '.');
	size_t n = 0;

	if (dot != NULL && dot != name) {
		for (const char *q = dot + 1; *q && n < 4; q++) {
			if (!isalnum((unsigned char)*q)) {
				n = 0;
				break;
			}
			out[n++] = (char)toupper((unsigned char)*q);
		}
		if (dot[1] != '\0' && strlen(dot + 1) > 4)
			n = 0;
	}
	if (n == 0) {
		memcpy(out, "\xe2\x80\xa2", 3); /* a bullet: no extension worth showing */
		n = 3;
	}
	out[n] = '\0';
}

struct kind {
	const char *type; /* exact, or "image/" for a family */
	const char *nl, *en;
};

static const struct kind kinds[] = {
        {"application/pdf", "PDF-document", "PDF document"},
        {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word-document",
         "Word document"},
        {"application/msword", "Word-document", "Word document"},
        {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel-werkblad",
         "Excel spreadsheet"},
        {"application/vnd.ms-excel", "Excel-werkblad", "Excel spreadsheet"},
        {"application/vnd.openxmlformats-officedocument.presentationml.presentation",
         "PowerPoint-presentatie", "PowerPoint presentation"},
        {"application/vnd.ms-powerpoint", "PowerPoint-presentatie", "PowerPoint presentation"},
        {"application/vnd.oasis.opendocument.text", "OpenDocument-tekst", "OpenDocument text"},
        {"application/vnd.oasis.opendocument.spreadsheet", "OpenDocument-werkblad",
         "OpenDocument spreadsheet"},
        {"application/zip", "Zip-archief", "Zip archive"},
        {"application/octet-stream", "Bestand", "File"},
        {"application/x-zip-compressed", "Zip-archief", "Zip archive"},
        {"message/rfc822", "E-mailbericht", "Email message"},
        {"text/plain", "Tekstbestand", "Text file"},
        {"text/csv", "CSV-bestand", "CSV file"},
        {"text/calendar", "Agenda-item", "Calendar item"},
        {"image/jpeg", "JPEG-afbeelding", "JPEG image"},
        {"image/png", "PNG-afbeelding", "PNG image"},
        {"image/", "Afbeelding", "Image"},
        {"audio/", "Geluidsbestand", "Audio file"},
        {"video/", "Video", "Video"},
        {"text/", "Tekstbestand", "Text file"},
};

/* What kind of file, in words; NULL when we have no words for it. */
static const char *kind_of(const char *lang, const char *type)
{
	size_t n = strcspn(type, "; ");

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t k = strlen(kinds[i].type);
		int family = kinds[i].type[k - 1] == '/';

		if (family ? strncasecmp(type, kinds[i].type, k) == 0
		           : n == k && strncasecmp(type, kinds[i].type, k) == 0)
			return strcmp(lang, "en") == 0 ? kinds[i].en : kinds[i].nl;
	}
	return NULL;
}

char *gw_pages_render_landing(const struct gw_pages *p, const char *lang, const char *token,
                              const struct bd_manifest *m, size_t *len)
{
	const struct texts *t = texts_for(lang);
	GString *out = g_string_sized_new(8192);
	char date[64], size[32];
	struct vars v = {.org = p->organisation, .date = date, .n = m->nfiles};
	uint64_t total = 0;

	bd_format_date(lang, (time_t)m->expires, date, sizeof(date));
	put_head(p, out, t, t->title, &v);
	g_string_append(out, "<h1>");
	put_text(out, t->heading, &v);
	g_string_append(out, "</h1>\n<p class=\"lead\">");
	put_text(out, m->nfiles == 1 ? t->lead_one : t->lead_many, &v);
	g_string_append(out, "</p>\n<p class=\"until\">");
	put_text(out, t->until, &v);
	g_string_append(out, "</p>\n<ul class=\"files\" aria-label=\"");
	put_text(out, t->files_label, &v);
	g_string_append(out, "\">\n");
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct bd_manifest_file *f = &m->files[i];
		const char *kind = kind_of(lang, f->content_type);
		char badge[8];

		total += f->size;
		badge_text(f->name, badge);
		bd_format_size(lang, f->size, size, sizeof(size));
		g_string_append(out,
		                "<li class=\"file\">\n<span class=\"badge\" aria-hidden=\"true\">");
		bd_html_append_escaped(out, badge);
		g_string_append(out, "</span>\n<div class=\"meta\"><h2 class=\"name\">");
		bd_html_append_escaped(out, f->name);
		g_string_append(out, "</h2>\n<p class=\"detail\">");
		bd_html_append_escaped(out, size);
		g_string_append(out, " \xc2\xb7 ");
		bd_html_append_escaped(out, kind != NULL ? kind : f->content_type);
		g_string_append(out, "</p></div>\n<a class=\"btn\" href=\"");
		bd_html_append_escaped(out, p->base_path);
		g_string_append_printf(out, "/d/%s/%u\" download>", token, f->index);
		put_text(out, t->download, &v);
		g_string_append(out, "<span class=\"vh\"> ");
		bd_html_append_escaped(out, f->name);
		g_string_append_printf(out, " (%s)</span></a>\n</li>\n", size);
	}
	g_string_append(out, "</ul>\n");
	if (m->nfiles > 1) {
		bd_format_size(lang, total, size, sizeof(size));
		g_string_append(out, "<p class=\"all\"><a class=\"btn second\" href=\"");
		bd_html_append_escaped(out, p->base_path);
		g_string_append_printf(out, "/d/%s/all\" download>", token);
		put_text(out, t->download_all, &v);
		g_string_append_printf(out, "<span class=\"muted\">%s</span></a></p>\n", size);
	}
	put_foot(out, t, &v, 1);
	*len = out->len;
	return g_string_free(out, FALSE);
}

/* Icons for the error pages: inline SVG is markup, not a resource the CSP must admit. */
static const char icon_clock[] =
        "<svg class=\"icon\" viewBox=\"0 0 48 48\" aria-hidden=\"true\" focusable=\"false\">"
        "<circle cx=\"24\" cy=\"24\" r=\"21\" fill=\"#fdf1dc\" stroke=\"#a3620a\" "
        "stroke-width=\"3\"/>"
        "<path d=\"M24 12v13l8 5\" fill=\"none\" stroke=\"#a3620a\" stroke-width=\"3.5\" "
        "stroke-linecap=\"round\" stroke-linejoin=\"round\"/></svg>\n";
static const char icon_alert[] =
        "<svg class=\"icon\" viewBox=\"0 0 48 48\" aria-hidden=\"true\" focusable=\"false\">"
        "<circle cx=\"24\" cy=\"24\" r=\"21\" fill=\"#e7f0f9\" stroke=\"#0b5cad\" "
        "stroke-width=\"3\"/>"
        "<path d=\"M24 13v14\" stroke=\"#0b5cad\" stroke-width=\"4\" stroke-linecap=\"round\"/>"
        "<circle cx=\"24\" cy=\"34\" r=\"2.6\" fill=\"#0b5cad\"/></svg>\n";

char *gw_pages_render_error(const struct gw_pages *p, const char *lang, enum gw_page which,
                            int64_t expires, size_t *len)
{
	const struct texts *t = texts_for(lang);
	GString *out = g_string_sized_new(4096);
	char date[64] = "";
	struct vars v = {.org = p->organisation, .date = date};

	if (expires != 0)
		bd_format_date(lang, (time_t)expires, date, sizeof(date));
	put_head(p, out, t, t->err[which].title, &v);
	g_string_append(out, which == GW_PAGE_EXPIRED ? icon_clock : icon_alert);
	g_string_append(out, "<h1>");
	put_text(out, t->err[which].heading, &v);
	g_string_append(out, "</h1>\n<p class=\"lead\">");
	put_text(out, t->err[which].text, &v);
	g_string_append(out, "</p>\n");
	if (t->err[which].detail != NULL && date[0] != '\0') {
		g_string_append(out, "<p class=\"muted\">");
		put_text(out, t->err[which].detail, &v);
		g_string_append(out, "</p>\n");
	}
	put_foot(out, t, &v, 0);
	*len = out->len;
	return g_string_free(out, FALSE);
}

/* ---- answering ---- */

static void free_page(void *cls)
{
	g_free(cls);
}

static enum MHD_Result respond_html(struct gw_request *r, unsigned status, const char *lang,
                                    char *html, size_t len)
{
	const struct gw_pages *p = r->srv->pages;
	struct MHD_Response *resp =
	        MHD_create_response_from_buffer_with_free_callback(len, html, free_page);

	if (resp == NULL) {
		g_free(html);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_LANGUAGE, lang);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Language");
	MHD_add_response_header(resp, "Content-Security-Policy", p->csp);
	MHD_add_response_header(resp, "X-Robots-Tag", "noindex, nofollow");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE || status == MHD_HTTP_TOO_MANY_REQUESTS)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "60");
	if (strcmp(r->method, "HEAD") != 0)
		r->bytes = len;
	return gw_respond(r, status, resp);
}

enum MHD_Result gw_pages_respond_landing(struct gw_request *r, const char *lang, const char *token,
                                         const struct bd_manifest *m)
{
	size_t len;
	char *html = gw_pages_render_landing(r->srv->pages, lang, token, m, &len);

	return respond_html(r, MHD_HTTP_OK, lang, html, len);
}

enum MHD_Result gw_pages_respond_error(struct gw_request *r, const char *lang, enum gw_page which,
                                       int64_t expires)
{
	static const unsigned status[] = {
	        [GW_PAGE_EXPIRED] = MHD_HTTP_GONE,
	        [GW_PAGE_NOT_FOUND] = MHD_HTTP_NOT_FOUND,
	        [GW_PAGE_UNAVAILABLE] = MHD_HTTP_SERVICE_UNAVAILABLE,
	        [GW_PAGE_ERROR] = MHD_HTTP_INTERNAL_SERVER_ERROR,
	        [GW_PAGE_TOO_MANY] = MHD_HTTP_TOO_MANY_REQUESTS,
	};
	size_t len;
	char *html = gw_pages_render_error(r->srv->pages, lang, which, expires, &len);

	return respond_html(r, status[which], lang, html, len);
}

void gw_security_headers(const struct gw_server *srv, struct MHD_Response *resp)
{
	const char *public_url = srv->conf->gateway.public_url;

	/* Pages set their own policy (admitting their style); everything else gets none at all. */
	if (MHD_get_response_header(resp, "Content-Security-Policy") == NULL)
		MHD_add_response_header(
		        resp, "Content-Security-Policy",
		        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
		        "form-action 'none'; sandbox");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
	if (MHD_get_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL) == NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	/* Over plain HTTP a browser ignores it, so announce it whenever recipients use TLS. */
	if (srv->tls_cert != NULL || strncmp(public_url, "https://", 8) == 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_STRICT_TRANSPORT_SECURITY,
		                        "max-age=31536000");
}

enum MHD_Result gw_pages_logo_handle(struct gw_request *r, const char *data, size_t *size)
{
	const struct gw_pages *p = r->srv->pages;
	struct MHD_Response *resp;

	if (r->calls == 1 || *size > 0) {
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
		return gw_respond_not_allowed(r, "GET, HEAD");
	if (p == NULL || p->logo == NULL)
		return gw_respond_text(r, MHD_HTTP_NOT_FOUND, "no logo configured\n");
	resp = MHD_create_response_from_buffer(p->logo_len, p->logo, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, p->logo_type);
	/* Public and unchanging until a restart: the one thing a browser may keep. */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=3600");
	if (strcmp(r->method, "GET") == 0)
		r->bytes = p->logo_len;
	return gw_respond(r, MHD_HTTP_OK, resp);
}

/* ---- set-up ---- */

static int load_logo(struct gw_pages *p, const char *path, struct bd_error *err)
{
	static const struct {
		const char *ext, *type;
	} types[] = {{".png", "image/png"},   {".svg", "image/svg+xml"}, {".jpg", "image/jpeg"},
	             {".jpeg", "image/jpeg"}, {".webp", "image/webp"},   {".gif", "image/gif"}};
	const char *dot = strrchr(path, '.');
	struct stat st;
	FILE *f;

	for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			p->logo_type = types[i].type;
	if (p->logo_type == NULL)
		return bd_error_set(err, BD_E_CONFIG,
		                    "[gateway] logo %s: use a .png, .svg, .jpg, .webp or .gif file",
		                    path);
	f = fopen(path, "rb");
	if (f == NULL)
		return bd_error_set(err, BD_E_CONFIG, "[gateway] logo: cannot read %s: %s", path,
		                    strerror(errno));
	if (fstat(fileno(f), &st) < 0 || st.st_size <= 0 || st.st_size > LOGO_MAX) {
		fclose(f);
		return bd_error_set(err, BD_E_CONFIG, "[gateway] logo %s: must be 1 byte to %d KiB",
		                    path, LOGO_MAX / 1024);
	}
	p->logo = bd_malloc((size_t)st.st_size);
	p->logo_len = fread(p->logo, 1, (size_t)st.st_size, f);
	fclose(f);
	if (p->logo_len != (size_t)st.st_size)
		return bd_error_set(err, BD_E_CONFIG, "[gateway] logo %s: short read", path);
	return 0;
}

struct gw_pages *gw_pages_new(const struct bd_conf *conf, struct bd_error *err)
{
	struct gw_pages *p = bd_calloc(1, sizeof(*p));
	const char *url = conf->gateway.public_url, *host, *path;
	uint8_t hash[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
	                                   sodium_base64_VARIANT_ORIGINAL)];

	p->organisation = bd_strdup(conf->gateway.organisation);
	host = strstr(url, "://");
	path = host != NULL ? strchr(host + 3, '/') : NULL;
	p->base_path = bd_strdup(path != NULL ? path : "");
	if (conf->gateway.logo[0] != '\0' && load_logo(p, conf->gateway.logo, err) < 0) {
		gw_pages_free(&p);
		return NULL;
	}
	crypto_hash_sha256(hash, (const uint8_t *)style, sizeof(style) - 1);
	sodium_bin2base64(b64, sizeof(b64), hash, sizeof(hash), sodium_base64_VARIANT_ORIGINAL);
	snprintf(p->csp, sizeof(p->csp),
	         "default-src 'none'; style-src 'sha256-%s'; img-src 'self' data:; "
	         "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
	         b64);
	return p;
}

void gw_pages_free(struct gw_pages **pp)
{
	struct gw_pages *p = *pp;

	if (p == NULL)
		return;
	free(p->organisation);
	free(p->base_path);
	free(p->logo);
	free(p);
	*pp = NULL;
}
