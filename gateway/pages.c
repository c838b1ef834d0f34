/*
 * pages.c - server-rendered pages for recipients and uploaders (see pages.h):
 * one layout, the texts of both languages compiled in, every value
 * HTML-escaped, nothing from elsewhere, and JavaScript only on the upload
 * page (a progress bar and the limits checked before sending; the form works
 * without it). The style and that script sit inline and the CSP admits
 * exactly them by their SHA-256 hashes; the optional logo is served as /logo.
 *
 * SPDX-License-Identifier: EUPL-1.2
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
	char csp_form[384]; /* the upload page's: its script, and its form posts to this gateway */
	char csp_post[320]; /* pages with plain forms that post to this gateway, and no script */
};

/* Every text in both languages. {org}, {n}, {date} are filled in, already escaped. */
struct text {
	const char *nl, *en;
};

struct texts {
	struct text other_lang, other_name, switch_label;
	struct text title;
	struct text heading;
	struct text lead_one, lead_many;
	struct text until;
	struct text files_label;
	struct text download;
	struct text download_all;
	struct text footer;
	struct text logo_alt;
	struct {
		struct text title, heading, text, detail;
	} err[GW_PAGES_ERRORS]; /* by enum gw_page */
};

/* The words, laid out for reading rather than by the formatter. */
// clang-format off
static const struct texts words = {
	.other_lang = {"en", "nl"},
	.other_name = {"English", "Nederlands"},
	.switch_label = {"Language", "Taal"},
	.title = {"Bestanden van {org}", "Files from {org}"},
	.heading = {"U hebt bestanden ontvangen", "You have received files"},
	.lead_one = {"{org} heeft u 1 bestand gestuurd via een beveiligde downloadlink.",
		     "{org} sent you 1 file through a secure download link."},
	.lead_many = {"{org} heeft u {n} bestanden gestuurd via een beveiligde downloadlink.",
		      "{org} sent you {n} files through a secure download link."},
	.until = {"Beschikbaar tot {date}", "Available until {date}"},
	.files_label = {"Bestanden", "Files"},
	.download = {"Downloaden", "Download"},
	.download_all = {"Alles downloaden (zip)", "Download all (zip)"},
	.footer = {"De bestanden zijn versleuteld opgeslagen en worden na {date} verwijderd. "
		   "Deze pagina gebruikt geen cookies.",
		   "The files are stored encrypted and will be deleted after {date}. "
		   "This page uses no cookies."},
	.logo_alt = {"Logo van {org}", "{org} logo"},
	.err = {
		[GW_PAGE_EXPIRED] = {
			{"Link verlopen", "Link expired"},
			{"Deze link is verlopen", "This link has expired"},
			{"Vraag de afzender om de bestanden opnieuw te sturen.",
			 "Ask the sender to send the files again."},
			{"De bestanden waren beschikbaar tot {date} en zijn niet meer te downloaden.",
			 "The files were available until {date} and can no longer be downloaded."}},
		[GW_PAGE_NOT_FOUND] = {
			{"Link werkt niet", "Link does not work"},
			{"Deze link werkt niet", "This link does not work"},
			{"Controleer of u de hele link uit het bericht hebt gebruikt. Werkt hij dan "
			 "nog niet, vraag de afzender om de bestanden opnieuw te sturen.",
			 "Check that you used the whole link from the message. If it still does not "
			 "work, ask the sender to send the files again."},
			{NULL, NULL}},
		[GW_PAGE_UNAVAILABLE] = {
			{"Tijdelijk niet beschikbaar", "Temporarily unavailable"},
			{"Even geduld", "Please wait a moment"},
			{"De bestanden zijn op dit moment niet bereikbaar. Probeer het over een paar "
			 "minuten opnieuw.",
			 "The files cannot be reached right now. Please try again in a few minutes."},
			{NULL, NULL}},
		[GW_PAGE_ERROR] = {
			{"Er ging iets mis", "Something went wrong"},
			{"Er ging iets mis", "Something went wrong"},
			{"Probeer het later opnieuw. Lukt het dan nog niet, neem contact op met de "
			 "afzender.",
			 "Please try again later. If it still fails, contact the sender."},
			{NULL, NULL}},
		[GW_PAGE_TOO_MANY] = {
			{"Te veel pogingen", "Too many attempts"},
			{"Te veel pogingen", "Too many attempts"},
			{"Vanaf uw adres zijn te veel ongeldige links geprobeerd. Wacht een minuut en "
			 "probeer het opnieuw.",
			 "Too many invalid links were tried from your address. Wait a minute and try "
			 "again."},
			{NULL, NULL}},
		[GW_PAGE_WITHDRAWN] = {
			{"Bestanden ingetrokken", "Files withdrawn"},
			{"De afzender heeft deze bestanden ingetrokken",
			 "The sender has withdrawn these files"},
			{"De bestanden zijn verwijderd en niet meer te downloaden. Hebt u ze nog nodig, "
			 "neem dan contact op met de afzender.",
			 "The files have been deleted and can no longer be downloaded. If you still "
			 "need them, contact the sender."},
			{NULL, NULL}},
		[GW_PAGE_LIMIT] = {
			{"Downloadlimiet bereikt", "Download limit reached"},
			{"Deze bestanden zijn al zo vaak gedownload als de afzender toestaat",
			 "These files have been downloaded as often as the sender allows"},
			{"Ze zijn via deze link niet meer te downloaden. Hebt u ze nog nodig, neem dan "
			 "contact op met de afzender.",
			 "They can no longer be downloaded through this link. If you still need them, "
			 "contact the sender."},
			{NULL, NULL}},
	},
};
// clang-format on

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
        "form{margin:1.5rem 0 0}"
        "label{display:block;margin:1rem 0 .25rem;font-weight:600}"
        "input[type=text],input[type=email],textarea{width:100%;padding:.5rem .75rem;border:1px "
        "solid #8a96a3;"
        "border-radius:8px;font:inherit;color:var(--ink);background:#fff}"
        "input[type=file]{display:block;width:100%;padding:.75rem;border:2px dashed #8a96a3;"
        "border-radius:8px;background:var(--bg);font:inherit}"
        "textarea{min-height:5rem}"
        "input:focus-visible,textarea:focus-visible,button:focus-visible{outline:3px solid "
        "var(--focus);outline-offset:2px}"
        "button.btn{margin:1.25rem 0 0;font:inherit;font-weight:600;cursor:pointer}"
        ".limits{margin:1rem 0 0;padding-left:1.25rem;color:var(--muted)}"
        ".refusal{margin:.75rem 0 0;color:#a12c1b;font-weight:600}"
        "progress{display:block;width:100%;height:1rem;margin:1rem 0 0}"
        "[hidden]{display:none!important}"
        ".note{margin:1rem 0 0;padding:.75rem 1rem;border-left:4px solid var(--accent);"
        "background:#f5f8fb;white-space:pre-line;overflow-wrap:anywhere}"
        ".btn.danger{background:#a12c1b;border-color:#a12c1b}"
        ".btn.danger:hover{background:#7f2215;border-color:#7f2215}"
        "select{min-height:2.75rem;padding:.5rem .75rem;border:1px solid #8a96a3;border-radius:8px;"
        "font:inherit;color:var(--ink);background:#fff}"
        "h2.section{font-size:1.125rem;margin:1.75rem 0 .5rem}"
        ".events{list-style:none;margin:.25rem 0 0;padding:0;color:var(--muted);"
        "font-size:.9375rem}"
        ".done{margin:1rem 0 0;padding:.75rem 1rem;border-left:4px solid #1e7d32;"
        "background:#eef7ef}"
        "@media (max-width:32rem){.wrap{padding:.75rem .75rem 1.5rem}main{padding:1.25rem 1rem}"
        "h1{font-size:1.375rem}.file .btn,.all .btn,button.btn{flex:1 1 100%;width:100%}}";

/* The upload page's one script: the limits checked per file before sending, and a progress bar
 * while it sends. Without it the form posts as it is. Kept in one piece: its hash is in the CSP. */
static const char upload_script[] =
        "(function(){var f=document.getElementById('upload');"
        "if(!f||!window.FormData||!window.XMLHttpRequest)return;"
        "var inp=document.getElementById('file'),bar=document.getElementById('progress'),"
        "msg=document.getElementById('check'),d=f.dataset;"
        "function check(){var fs=inp.files,t=0,bad='';"
        "if(fs.length>+d.maxFiles)bad=d.tooMany;"
        "for(var i=0;i<fs.length&&!bad;i++){t+=fs[i].size;"
        "if(fs[i].size>+d.maxFile)bad=d.tooLarge.replace('{file}',fs[i].name);}"
        "if(!bad&&t>+d.maxTotal)bad=d.tooLargeTotal;"
        "msg.textContent=bad;msg.hidden=!bad;return !bad;}"
        "inp.addEventListener('change',check);"
        "f.addEventListener('submit',function(e){e.preventDefault();if(!check())return;"
        "var x=new XMLHttpRequest();x.open('POST',f.action);bar.hidden=false;"
        "x.upload.onprogress=function(ev){if(ev.lengthComputable){bar.max=ev.total;"
        "bar.value=ev.loaded;}};"
        "x.onload=function(){document.open();document.write(x.responseText);document.close();};"
        "x.onerror=function(){msg.textContent=d.failed;msg.hidden=false;bar.hidden=true;};"
        "x.send(new FormData(f));});})();";

/* Sizes and dates come from notice.h, so the page says what the message said. */

const char *gw_pages_zip_name(const char *lang)
{
	return strcmp(lang, "en") == 0 ? "attachments.zip" : "bijlagen.zip";
}

/* ---- HTML building ---- */

struct vars {
	int en; /* which language: 1 English, 0 Dutch */
	const char *org;
	const char *date;
	size_t n;
	const char *who;  /* an upload request's requester */
	const char *size; /* a size, written for people */
	const char *file; /* a file name */
};

/* The text in the page's language, as it stands (for words without placeholders). */
static const char *say(const struct text *both, const struct vars *v)
{
	return v->en ? both->en : both->nl;
}

/* Text with {org}, {date}, {n}, {who}, {size} and {file} filled in; the text itself is trusted
 * markup-free prose. */
static void put_text(GString *out, const struct text *both, const struct vars *v)
{
	const char *text = say(both, v);

	while (*text) {
		if (strncmp(text, "{org}", 5) == 0) {
			bd_html_append_escaped(out, v->org ? v->org : "");
			text += 5;
		} else if (strncmp(text, "{date}", 6) == 0) {
			bd_html_append_escaped(out, v->date ? v->date : "");
			text += 6;
		} else if (strncmp(text, "{who}", 5) == 0) {
			bd_html_append_escaped(out, v->who ? v->who : "");
			text += 5;
		} else if (strncmp(text, "{size}", 6) == 0) {
			bd_html_append_escaped(out, v->size ? v->size : "");
			text += 6;
		} else if (strncmp(text, "{file}", 6) == 0) {
			bd_html_append_escaped(out, v->file ? v->file : "");
			text += 6;
		} else if (strncmp(text, "{n}", 3) == 0) {
			g_string_append_printf(out, "%zu", v->n);
			text += 3;
		} else {
			g_string_append_c(out, *text++);
		}
	}
}

static void put_head(const struct gw_pages *p, GString *out, const struct text *title,
                     const struct vars *v)
{
	g_string_append_printf(out, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n",
	                       v->en ? "en" : "nl");
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
		put_text(out, &words.logo_alt, v);
		g_string_append(out, "\">");
	}
	g_string_append(out, "<span>");
	bd_html_append_escaped(out, p->organisation);
	g_string_append(out, "</span></div>\n");
	/* The switch keeps the path (and so the link) and changes only the language. */
	g_string_append_printf(out,
	                       "<nav class=\"lang\" aria-label=\"%s\"><a href=\"?lang=%s\" "
	                       "hreflang=\"%s\" lang=\"%s\">%s</a></nav>\n</header>\n<main>\n",
	                       say(&words.switch_label, v), say(&words.other_lang, v),
	                       say(&words.other_lang, v), say(&words.other_lang, v),
	                       say(&words.other_name, v));
}

static void put_foot(GString *out, const struct vars *v, int with_footer)
{
	g_string_append(out, "</main>\n");
	if (with_footer) {
		g_string_append(out, "<footer><p>");
		put_text(out, &words.footer, v);
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
#include "file_kinds.def"
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
	GString *out = g_string_sized_new(8192);
	char date[64], size[32];
	struct vars v = {.en = strcmp(lang, "en") == 0,
	                 .org = p->organisation,
	                 .date = date,
	                 .n = m->nfiles};
	uint64_t total = 0;

	bd_format_date(lang, (time_t)m->expires, date, sizeof(date));
	put_head(p, out, &words.title, &v);
	g_string_append(out, "<h1>");
	put_text(out, &words.heading, &v);
	g_string_append(out, "</h1>\n<p class=\"lead\">");
	put_text(out, m->nfiles == 1 ? &words.lead_one : &words.lead_many, &v);
	g_string_append(out, "</p>\n<p class=\"until\">");
	put_text(out, &words.until, &v);
	g_string_append(out, "</p>\n<ul class=\"files\" aria-label=\"");
	put_text(out, &words.files_label, &v);
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
		put_text(out, &words.download, &v);
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
		put_text(out, &words.download_all, &v);
		g_string_append_printf(out, "<span class=\"muted\">%s</span></a></p>\n", size);
	}
	put_foot(out, &v, 1);
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
	GString *out = g_string_sized_new(4096);
	char date[64] = "";
	struct vars v = {.en = strcmp(lang, "en") == 0, .org = p->organisation, .date = date};

	if (expires != 0)
		bd_format_date(lang, (time_t)expires, date, sizeof(date));
	put_head(p, out, &words.err[which].title, &v);
	g_string_append(out, which == GW_PAGE_EXPIRED ? icon_clock : icon_alert);
	g_string_append(out, "<h1>");
	put_text(out, &words.err[which].heading, &v);
	g_string_append(out, "</h1>\n<p class=\"lead\">");
	put_text(out, &words.err[which].text, &v);
	g_string_append(out, "</p>\n");
	if (words.err[which].detail.nl != NULL && date[0] != '\0') {
		g_string_append(out, "<p class=\"muted\">");
		put_text(out, &words.err[which].detail, &v);
		g_string_append(out, "</p>\n");
	}
	put_foot(out, &v, 0);
	*len = out->len;
	return g_string_free(out, FALSE);
}

/* ---- upload requests ---- */

/* The words of the upload pages, laid out for reading. */
// clang-format off
static const struct {
	struct text title, heading, lead, note_label, until, max_files, max_file, max_total;
	struct text choose, name_label, message_label, send, footer;
	struct text done_title, done_heading, done_one, done_many, done_told;
	struct text refused_title, refused_heading, back, nothing_kept;
	struct text js_too_large, js_too_many, js_too_large_total, js_failed, progress;
	struct text reason[GW_UPLOAD_REFUSALS];
} up = {
	.title = {"Bestanden sturen aan {org}", "Send files to {org}"},
	.heading = {"Bestanden sturen", "Send files"},
	.lead = {"{who} van {org} vraagt u om bestanden te sturen via deze beveiligde pagina.",
		 "{who} at {org} asks you to send files through this secure page."},
	.note_label = {"Bericht van {who}", "Message from {who}"},
	.until = {"Deze link werkt tot {date}", "This link works until {date}"},
	.max_files = {"Hoogstens {n} bestanden", "At most {n} files"},
	.max_file = {"Per bestand hoogstens {size}", "At most {size} per file"},
	.max_total = {"Samen hoogstens {size}", "At most {size} together"},
	.choose = {"Bestanden kiezen", "Choose files"},
	.name_label = {"Uw naam of e-mailadres (niet verplicht)",
		       "Your name or email address (optional)"},
	.message_label = {"Bericht (niet verplicht)", "Message (optional)"},
	.send = {"Versturen", "Send"},
	.footer = {"De bestanden worden versleuteld opgeslagen; alleen {org} kan ze openen. "
		   "Deze pagina gebruikt geen cookies.",
		   "The files are stored encrypted; only {org} can open them. "
		   "This page uses no cookies."},
	.done_title = {"Bestanden ontvangen", "Files received"},
	.done_heading = {"Dank u, de bestanden zijn ontvangen", "Thank you, the files have arrived"},
	.done_one = {"{org} heeft 1 bestand van u ontvangen:",
		     "{org} has received 1 file from you:"},
	.done_many = {"{org} heeft {n} bestanden van u ontvangen:",
		      "{org} has received {n} files from you:"},
	.done_told = {"{who} heeft hierover een bericht gekregen.",
		      "{who} has been told by mail."},
	.refused_title = {"Niet verstuurd", "Not sent"},
	.refused_heading = {"De bestanden zijn niet verstuurd", "The files were not sent"},
	.back = {"Opnieuw proberen", "Try again"},
	.nothing_kept = {"Er is niets opgeslagen.", "Nothing has been stored."},
	.js_too_large = {"Het bestand â{file}â is groter dan {size}.",
			 "The file â{file}â is larger than {size}."},
	.js_too_many = {"Kies hoogstens {n} bestanden.", "Choose at most {n} files."},
	.js_too_large_total = {"De bestanden zijn samen groter dan {size}.",
			       "The files are larger than {size} together."},
	.js_failed = {"Het versturen is mislukt. Probeer het opnieuw.",
		      "Sending failed. Please try again."},
	.progress = {"Voortgang", "Progress"},
	.reason = {
		[GW_UPLOAD_FILE_TOO_LARGE] = {
			"Het bestand \xe2\x80\x9c{file}\xe2\x80\x9d is groter dan {size}, de grens per bestand.",
			"The file \xe2\x80\x9c{file}\xe2\x80\x9d is larger than {size}, the limit per file."},
		[GW_UPLOAD_TOO_LARGE] = {
			"De bestanden zijn samen groter dan {size}.",
			"The files are larger than {size} together."},
		[GW_UPLOAD_TOO_MANY] = {
			"U kunt hoogstens {n} bestanden tegelijk sturen.",
			"You can send at most {n} files at once."},
		[GW_UPLOAD_EXPIRED] = {
			"Dit uploadverzoek is verlopen. Vraag de afzender om een nieuw verzoek.",
			"This upload request has expired. Ask the sender for a new one."},
		[GW_UPLOAD_EMPTY] = {
			"U hebt geen bestand gekozen.",
			"You did not choose a file."},
		[GW_UPLOAD_UNAVAILABLE] = {
			"Het versturen is nu niet gelukt. Probeer het over een paar minuten opnieuw.",
			"Sending did not work right now. Please try again in a few minutes."},
		[GW_UPLOAD_INFECTED] = {
			"In het bestand â{file}â is een virus gevonden. Geen van de "
			"bestanden is verstuurd; de afzender van het verzoek is ingelicht.",
			"A virus was found in the file â{file}â. None of the files "
			"was sent; the person who asked has been told."},
	},
};
// clang-format on

static void put_item(GString *out, const struct text *t, const struct vars *v)
{
	g_string_append(out, "<li>");
	put_text(out, t, v);
	g_string_append(out, "</li>\n");
}

/* An attribute holding a text: its value escaped (the text's own escaping suffices). */
static void put_data(GString *out, const char *attr, const struct text *t, const struct vars *v)
{
	g_string_append_printf(out, " %s=\"", attr);
	put_text(out, t, v);
	g_string_append_c(out, '"');
}

static void put_upload_foot(GString *out, const struct vars *v)
{
	g_string_append(out, "</main>\n<footer><p>");
	put_text(out, &up.footer, v);
	g_string_append(out, "</p></footer>\n</div>\n</body>\n</html>\n");
}

char *gw_pages_render_upload(const struct gw_pages *p, const char *lang, const char *token,
                             const struct bd_request *r, size_t *len)
{
	GString *out = g_string_sized_new(8192);
	char date[64], size[32];
	struct vars v = {.en = strcmp(lang, "en") == 0,
	                 .org = p->organisation,
	                 .date = date,
	                 .who = r->requester,
	                 .size = size,
	                 .n = r->max_files};

	bd_format_date(lang, (time_t)r->expires, date, sizeof(date));
	put_head(p, out, &up.title, &v);
	g_string_append(out, "<h1>");
	put_text(out, &up.heading, &v);
	g_string_append(out, "</h1>\n<p class=\"lead\">");
	put_text(out, &up.lead, &v);
	g_string_append(out, "</p>\n");
	if (r->note != NULL && r->note[0] != '\0') {
		g_string_append(out, "<p class=\"note\"><span class=\"vh\">");
		put_text(out, &up.note_label, &v);
		g_string_append(out, ": </span>");
		bd_html_append_escaped(out, r->note);
		g_string_append(out, "</p>\n");
	}
	g_string_append(out, "<p class=\"until\">");
	put_text(out, &up.until, &v);
	g_string_append(out, "</p>\n<ul class=\"limits\">\n");
	put_item(out, &up.max_files, &v);
	bd_format_size(lang, r->max_file_size, size, sizeof(size));
	put_item(out, &up.max_file, &v);
	bd_format_size(lang, r->max_total_size, size, sizeof(size));
	put_item(out, &up.max_total, &v);
	/* The fields before the files, so they arrive first; lang stays with the answer. */
	g_string_append(out, "</ul>\n<form id=\"upload\" method=\"post\" "
	                     "enctype=\"multipart/form-data\" action=\"");
	bd_html_append_escaped(out, p->base_path);
	g_string_append_printf(out,
	                       "/u/%s?lang=%s\" data-max-file=\"%llu\" data-max-total=\"%llu\" "
	                       "data-max-files=\"%u\"",
	                       token, v.en ? "en" : "nl", (unsigned long long)r->max_file_size,
	                       (unsigned long long)r->max_total_size, r->max_files);
	/* the script's words, {file} left for it to fill in */
	v.file = "{file}";
	bd_format_size(lang, r->max_file_size, size, sizeof(size));
	put_data(out, "data-too-large", &up.js_too_large, &v);
	put_data(out, "data-too-many", &up.js_too_many, &v);
	bd_format_size(lang, r->max_total_size, size, sizeof(size));
	put_data(out, "data-too-large-total", &up.js_too_large_total, &v);
	put_data(out, "data-failed", &up.js_failed, &v);
	g_string_append(out, ">\n");
	g_string_append(out, "<label for=\"name\">");
	put_text(out, &up.name_label, &v);
	g_string_append(out, "</label>\n<input type=\"text\" id=\"name\" name=\"name\" "
	                     "maxlength=\"200\" autocomplete=\"email\">\n<label for=\"message\">");
	put_text(out, &up.message_label, &v);
	g_string_append(out, "</label>\n<textarea id=\"message\" name=\"message\" "
	                     "maxlength=\"1000\"></textarea>\n<label for=\"file\">");
	put_text(out, &up.choose, &v);
	g_string_append(out, "</label>\n<input type=\"file\" id=\"file\" name=\"file\" multiple "
	                     "required>\n<p id=\"check\" class=\"refusal\" role=\"alert\" "
	                     "hidden></p>\n<progress id=\"progress\" aria-label=\"");
	put_text(out, &up.progress, &v);
	g_string_append(out, "\" hidden></progress>\n<button class=\"btn\" type=\"submit\">");
	put_text(out, &up.send, &v);
	g_string_append(out, "</button>\n</form>\n<script>");
	g_string_append(out, upload_script);
	g_string_append(out, "</script>\n");
	put_upload_foot(out, &v);
	*len = out->len;
	return g_string_free(out, FALSE);
}

char *gw_pages_render_upload_done(const struct gw_pages *p, const char *lang, const char *requester,
                                  const struct bd_manifest *m, size_t *len)
{
	GString *out = g_string_sized_new(4096);
	char size[32];
	struct vars v = {.en = strcmp(lang, "en") == 0,
	                 .org = p->organisation,
	                 .who = requester,
	                 .n = m->nfiles};

	put_head(p, out, &up.done_title, &v);
	g_string_append(out, "<h1>");
	put_text(out, &up.done_heading, &v);
	g_string_append(out, "</h1>\n<p class=\"lead\">");
	put_text(out, m->nfiles == 1 ? &up.done_one : &up.done_many, &v);
	g_string_append(out, "</p>\n<ul class=\"files\">\n");
	for (size_t i = 0; i < m->nfiles; i++) {
		bd_format_size(lang, m->files[i].size, size, sizeof(size));
		g_string_append(out, "<li class=\"file\"><div class=\"meta\"><p class=\"name\">");
		bd_html_append_escaped(out, m->files[i].name);
		g_string_append(out, "</p><p class=\"detail\">");
		bd_html_append_escaped(out, size);
		g_string_append(out, "</p></div></li>\n");
	}
	g_string_append(out, "</ul>\n<p class=\"muted\">");
	put_text(out, &up.done_told, &v);
	g_string_append(out, "</p>\n");
	put_upload_foot(out, &v);
	*len = out->len;
	return g_string_free(out, FALSE);
}

char *gw_pages_render_upload_refused(const struct gw_pages *p, const char *lang, const char *token,
                                     enum gw_upload_refusal why, const struct gw_upload_limits *lim,
                                     size_t *len)
{
	GString *out = g_string_sized_new(4096);
	char size[32] = "";
	struct vars v = {.en = strcmp(lang, "en") == 0,
	                 .org = p->organisation,
	                 .size = size,
	                 .file = lim->file,
	                 .n = lim->max_files};

	if (why == GW_UPLOAD_FILE_TOO_LARGE || why == GW_UPLOAD_TOO_LARGE)
		bd_format_size(lang,
		               why == GW_UPLOAD_FILE_TOO_LARGE ? lim->max_file_size
		                                               : lim->max_total_size,
		               size, sizeof(size));
	put_head(p, out, &up.refused_title, &v);
	g_string_append(out, why == GW_UPLOAD_EXPIRED ? icon_clock : icon_alert);
	g_string_append(out, "<h1>");
	put_text(out, &up.refused_heading, &v);
	g_string_append(out, "</h1>\n<p class=\"lead\">");
	put_text(out, &up.reason[why], &v);
	g_string_append(out, "</p>\n<p class=\"muted\">");
	put_text(out, &up.nothing_kept, &v);
	g_string_append(out, "</p>\n");
	if (why != GW_UPLOAD_EXPIRED && token != NULL) {
		g_string_append(out, "<p class=\"all\"><a class=\"btn second\" href=\"");
		bd_html_append_escaped(out, p->base_path);
		g_string_append_printf(out, "/u/%s?lang=%s\">", token, v.en ? "en" : "nl");
		put_text(out, &up.back, &v);
		g_string_append(out, "</a></p>\n");
	}
	put_foot(out, &v, 0);
	*len = out->len;
	return g_string_free(out, FALSE);
}

void gw_pages_upload(const struct gw_pages *p, const char *lang, const char *token,
                     const struct bd_request *r, struct gw_html *out)
{
	*out = (struct gw_html){.status = MHD_HTTP_OK, .lang = lang, .csp = p->csp_form};
	out->body = gw_pages_render_upload(p, lang, token, r, &out->len);
}

void gw_pages_upload_done(const struct gw_pages *p, const char *lang, const char *requester,
                          const struct bd_manifest *m, struct gw_html *out)
{
	*out = (struct gw_html){.status = MHD_HTTP_OK, .lang = lang, .csp = p->csp};
	out->body = gw_pages_render_upload_done(p, lang, requester, m, &out->len);
}

void gw_pages_upload_refused(const struct gw_pages *p, const char *lang, const char *token,
                             enum gw_upload_refusal why, const struct gw_upload_limits *lim,
                             struct gw_html *out)
{
	static const unsigned status[] = {
	        [GW_UPLOAD_FILE_TOO_LARGE] = MHD_HTTP_CONTENT_TOO_LARGE,
	        [GW_UPLOAD_TOO_LARGE] = MHD_HTTP_CONTENT_TOO_LARGE,
	        [GW_UPLOAD_TOO_MANY] = MHD_HTTP_CONTENT_TOO_LARGE,
	        [GW_UPLOAD_EXPIRED] = MHD_HTTP_GONE,
	        [GW_UPLOAD_EMPTY] = MHD_HTTP_BAD_REQUEST,
	        [GW_UPLOAD_UNAVAILABLE] = MHD_HTTP_SERVICE_UNAVAILABLE,
	        [GW_UPLOAD_INFECTED] = MHD_HTTP_UNPROCESSABLE_CONTENT,
	};

	*out = (struct gw_html){.status = status[why], .lang = lang, .csp = p->csp};
	if (why == GW_UPLOAD_UNAVAILABLE)
		out->retry_after = 60;
	out->body = gw_pages_render_upload_refused(p, lang, token, why, lim, &out->len);
}

/* ---- verification ---- */

/* The words of the verification pages. */
// clang-format off
static const struct {
	struct text title, footer, address_label, send, code_label, confirm, new_code, other_address;
	struct text access_label, open, back;
	struct {
		struct text heading, lead;
	} step[GW_VERIFY_STEPS];
} ver = {
	.title = {"Bestanden van {org}", "Files from {org}"},
	.footer = {"Na de controle onthoudt uw browser een uur lang, alleen voor deze link, dat u "
		   "bent gecontroleerd (met \xc3\xa9\xc3\xa9n cookie).",
		   "After the check your browser remembers for one hour, for this link only, that "
		   "you were checked (with one cookie)."},
	.address_label = {"Uw e-mailadres", "Your e-mail address"},
	.send = {"Code sturen", "Send code"},
	.code_label = {"Code van 6 cijfers", "6-digit code"},
	.confirm = {"Bevestigen", "Confirm"},
	.new_code = {"Nieuwe code sturen", "Send a new code"},
	.other_address = {"Ander e-mailadres gebruiken", "Use another e-mail address"},
	.access_label = {"Toegangscode", "Access code"},
	.open = {"Openen", "Open"},
	.back = {"Opnieuw beginnen", "Start again"},
	.step = {
		[GW_VERIFY_ASK_ADDRESS] = {
			{"Eerst een korte controle", "First, a quick check"},
			{"{org} heeft u bestanden gestuurd. Vul het e-mailadres in waarop u het "
			 "bericht hebt ontvangen; daar sturen we een code naartoe.",
			 "{org} sent you files. Enter the e-mail address at which you received the "
			 "message; we will send a code to it."}},
		[GW_VERIFY_ASK_CODE] = {
			{"Vul de code in", "Enter the code"},
			{"Als {who} een van de adressen is waar het bericht naartoe ging, hebben we er "
			 "zojuist een code van 6 cijfers naartoe gestuurd. De code is {n} minuten "
			 "geldig.",
			 "If {who} is one of the addresses the message was sent to, we have just sent "
			 "a 6-digit code there. The code is valid for {n} minutes."}},
		[GW_VERIFY_WRONG_CODE] = {
			{"Die code klopt niet", "That code is not right"},
			{"De code is onjuist, verlopen of te vaak geprobeerd. Controleer de code, of "
			 "vraag een nieuwe aan.",
			 "The code is wrong, has expired or was tried too often. Check it, or ask for "
			 "a new one."}},
		[GW_VERIFY_ASK_ACCESS] = {
			{"Vul de toegangscode in", "Enter the access code"},
			{"{org} heeft deze bestanden beveiligd met een toegangscode. De afzender geeft "
			 "u die code apart, bijvoorbeeld telefonisch.",
			 "{org} protected these files with an access code. The sender gives you that "
			 "code separately, for instance by phone."}},
		[GW_VERIFY_WRONG_ACCESS] = {
			{"Onjuiste toegangscode", "Wrong access code"},
			{"Controleer de code en probeer het opnieuw. Na te veel onjuiste pogingen "
			 "blokkeren we deze link een tijd voor uw adres.",
			 "Check the code and try again. After too many wrong tries this link is "
			 "blocked for your address for a while."}},
		[GW_VERIFY_LOCKED] = {
			{"Tijdelijk geblokkeerd", "Temporarily blocked"},
			{"Vanaf uw adres zijn te veel onjuiste codes geprobeerd. Probeer het na {date} "
			 "opnieuw, of neem contact op met de afzender.",
			 "Too many wrong codes were tried from your address. Try again after {date}, "
			 "or contact the sender."}},
		[GW_VERIFY_STALE] = {
			{"Formulier verlopen", "Form expired"},
			{"Het formulier was te oud of kwam niet van deze pagina. Begin opnieuw.",
			 "The form was too old or did not come from this page. Please start again."}},
		[GW_VERIFY_BUSY] = {
			{"Te veel pogingen", "Too many attempts"},
			{"Er zijn net te veel pogingen gedaan. Wacht een paar minuten en probeer het "
			 "opnieuw.",
			 "There have just been too many attempts. Wait a few minutes and try again."}},
	},
};
// clang-format on

/* <form method=post> to the link's page, with the hidden fields every post carries. */
static void put_form_open(const struct gw_pages *p, GString *out, const struct gw_verify_form *f,
                          const struct vars *v, const char *step)
{
	g_string_append(out, "<form method=\"post\" action=\"");
	bd_html_append_escaped(out, p->base_path);
	g_string_append_printf(out, "/d/%s?lang=%s\">\n", f->token, v->en ? "en" : "nl");
	g_string_append(out, "<input type=\"hidden\" name=\"form\" value=\"");
	bd_html_append_escaped(out, f->form != NULL ? f->form : "");
	g_string_append_printf(out, "\">\n<input type=\"hidden\" name=\"step\" value=\"%s\">\n",
	                       step);
}

static void put_button(GString *out, const struct text *t, const struct vars *v, int second)
{
	g_string_append_printf(out, "<button class=\"btn%s\" type=\"submit\">",
	                       second ? " second" : "");
	put_text(out, t, v);
	g_string_append(out, "</button>\n</form>\n");
}

static void put_address_form(const struct gw_pages *p, GString *out, const struct gw_verify_form *f,
                             const struct vars *v)
{
	put_form_open(p, out, f, v, "address");
	g_string_append(out, "<label for=\"address\">");
	put_text(out, &ver.address_label, v);
	g_string_append(out, "</label>\n<input type=\"email\" id=\"address\" name=\"address\" "
	                     "maxlength=\"254\" autocomplete=\"email\" required>\n");
	put_button(out, &ver.send, v, 0);
}

static void put_code_forms(const struct gw_pages *p, GString *out, const struct gw_verify_form *f,
                           const struct vars *v)
{
	put_form_open(p, out, f, v, "code");
	g_string_append(out, "<input type=\"hidden\" name=\"address\" value=\"");
	bd_html_append_escaped(out, f->address != NULL ? f->address : "");
	g_string_append(out, "\">\n<label for=\"code\">");
	put_text(out, &ver.code_label, v);
	g_string_append(out, "</label>\n<input type=\"text\" id=\"code\" name=\"code\" "
	                     "inputmode=\"numeric\" autocomplete=\"one-time-code\" "
	                     "maxlength=\"12\" required>\n");
	put_button(out, &ver.confirm, v, 0);
	put_form_open(p, out, f, v, "address");
	g_string_append(out, "<input type=\"hidden\" name=\"address\" value=\"");
	bd_html_append_escaped(out, f->address != NULL ? f->address : "");
	g_string_append(out, "\">\n");
	put_button(out, &ver.new_code, v, 1);
	g_string_append(out, "<p class=\"all\"><a href=\"");
	bd_html_append_escaped(out, p->base_path);
	g_string_append_printf(out, "/d/%s?lang=%s\">", f->token, v->en ? "en" : "nl");
	put_text(out, &ver.other_address, v);
	g_string_append(out, "</a></p>\n");
}

static void put_access_form(const struct gw_pages *p, GString *out, const struct gw_verify_form *f,
                            const struct vars *v)
{
	put_form_open(p, out, f, v, "access");
	g_string_append(out, "<label for=\"code\">");
	put_text(out, &ver.access_label, v);
	g_string_append(out, "</label>\n<input type=\"text\" id=\"code\" name=\"code\" "
	                     "maxlength=\"128\" autocomplete=\"off\" autocapitalize=\"none\" "
	                     "spellcheck=\"false\" required>\n");
	put_button(out, &ver.open, v, 0);
}

char *gw_pages_render_verify(const struct gw_pages *p, const char *lang, enum gw_verify_step step,
                             const struct gw_verify_form *f, size_t *len)
{
	GString *out = g_string_sized_new(6144);
	char date[96] = "";
	struct vars v = {.en = strcmp(lang, "en") == 0,
	                 .org = p->organisation,
	                 .date = date,
	                 .who = f->address,
	                 .n = f->minutes};

	if (step == GW_VERIFY_LOCKED && f->until != 0) {
		time_t t = (time_t)f->until;
		struct tm tm;
		size_t n;

		bd_format_date(lang, t, date, sizeof(date));
		localtime_r(&t, &tm);
		n = strlen(date);
		strftime(date + n, sizeof(date) - n, v.en ? ", %H:%M" : " om %H:%M", &tm);
	}
	put_head(p, out, &ver.title, &v);
	if (step == GW_VERIFY_LOCKED || step == GW_VERIFY_BUSY || step == GW_VERIFY_STALE)
		g_string_append(out, icon_alert);
	g_string_append(out, "<h1>");
	put_text(out, &ver.step[step].heading, &v);
	g_string_append(out, "</h1>\n<p class=\"lead\">");
	put_text(out, &ver.step[step].lead, &v);
	g_string_append(out, "</p>\n");
	switch (step) {
	case GW_VERIFY_ASK_ADDRESS: put_address_form(p, out, f, &v); break;
	case GW_VERIFY_ASK_CODE:
	case GW_VERIFY_WRONG_CODE: put_code_forms(p, out, f, &v); break;
	case GW_VERIFY_ASK_ACCESS:
	case GW_VERIFY_WRONG_ACCESS: put_access_form(p, out, f, &v); break;
	default:
		g_string_append(out, "<p class=\"all\"><a class=\"btn second\" href=\"");
		bd_html_append_escaped(out, p->base_path);
		g_string_append_printf(out, "/d/%s?lang=%s\">", f->token, v.en ? "en" : "nl");
		put_text(out, &ver.back, &v);
		g_string_append(out, "</a></p>\n");
		break;
	}
	g_string_append(out, "</main>\n<footer><p>");
	put_text(out, &ver.footer, &v);
	g_string_append(out, "</p></footer>\n</div>\n</body>\n</html>\n");
	*len = out->len;
	return g_string_free(out, FALSE);
}

void gw_pages_verify(const struct gw_pages *p, const char *lang, enum gw_verify_step step,
                     const struct gw_verify_form *f, struct gw_html *out)
{
	static const unsigned status[] = {
	        [GW_VERIFY_ASK_ADDRESS] = MHD_HTTP_OK,
	        [GW_VERIFY_ASK_CODE] = MHD_HTTP_OK,
	        [GW_VERIFY_WRONG_CODE] = MHD_HTTP_FORBIDDEN,
	        [GW_VERIFY_ASK_ACCESS] = MHD_HTTP_OK,
	        [GW_VERIFY_WRONG_ACCESS] = MHD_HTTP_FORBIDDEN,
	        [GW_VERIFY_LOCKED] = MHD_HTTP_TOO_MANY_REQUESTS,
	        [GW_VERIFY_STALE] = MHD_HTTP_FORBIDDEN,
	        [GW_VERIFY_BUSY] = MHD_HTTP_TOO_MANY_REQUESTS,
	};

	*out = (struct gw_html){.status = status[step], .lang = lang, .csp = p->csp_post};
	if (step == GW_VERIFY_BUSY)
		out->retry_after = 60;
	out->body = gw_pages_render_verify(p, lang, step, f, &out->len);
}

const char *gw_pages_base_path(const struct gw_pages *p)
{
	return p->base_path;
}

/* ---- answering ---- */

void gw_pages_landing(const struct gw_pages *p, const char *lang, const char *token,
                      const struct bd_manifest *m, struct gw_html *out)
{
	*out = (struct gw_html){.status = MHD_HTTP_OK, .lang = lang, .csp = p->csp};
	out->body = gw_pages_render_landing(p, lang, token, m, &out->len);
}

void gw_pages_error(const struct gw_pages *p, const char *lang, enum gw_page which, int64_t expires,
                    struct gw_html *out)
{
	static const unsigned status[] = {
	        [GW_PAGE_EXPIRED] = MHD_HTTP_GONE,
	        [GW_PAGE_NOT_FOUND] = MHD_HTTP_NOT_FOUND,
	        [GW_PAGE_UNAVAILABLE] = MHD_HTTP_SERVICE_UNAVAILABLE,
	        [GW_PAGE_ERROR] = MHD_HTTP_INTERNAL_SERVER_ERROR,
	        [GW_PAGE_TOO_MANY] = MHD_HTTP_TOO_MANY_REQUESTS,
	        [GW_PAGE_WITHDRAWN] = MHD_HTTP_GONE,
	        [GW_PAGE_LIMIT] = MHD_HTTP_GONE,
	};

	*out = (struct gw_html){.status = status[which], .lang = lang, .csp = p->csp};
	/* Both say "try again shortly": a minute is what the limit and a storage hiccup take. */
	if (which == GW_PAGE_UNAVAILABLE || which == GW_PAGE_TOO_MANY)
		out->retry_after = 60;
	out->body = gw_pages_render_error(p, lang, which, expires, &out->len);
}

/* ---- the sender's management page ---- */

/* The words of the management pages, laid out for reading. */
// clang-format off
static const struct {
	struct text title, heading, sent, until, extended, recipients_label, files_label;
	struct text downloaded_by, downloaded_anyone, not_downloaded, activity_label;
	struct text code_sent, verified, code_failed, locked, receipt_sent, ext_event;
	struct text extend_label, extend_days, extend_button, extend_none;
	struct text revoke_label, revoke_text, revoke_button;
	struct text revoked_title, revoked_heading, revoked_text;
	struct text refused_title, refused_heading, refused_text, too_far, back;
	struct text day_one, day_many, footer;
} mg = {
	.title = {"Verzonden bestanden - {org}", "Files you sent - {org}"},
	.heading = {"Uw verzonden bestanden", "The files you sent"},
	.sent = {"Verstuurd op {date}.", "Sent on {date}."},
	.until = {"Beschikbaar tot {date}", "Available until {date}"},
	.extended = {"Verlengd: de bestanden blijven beschikbaar tot {date}.",
		     "Extended: the files stay available until {date}."},
	.recipients_label = {"Ontvangers", "Recipients"},
	.files_label = {"Bestanden", "Files"},
	.downloaded_by = {"Gedownload door {who} op {date}", "Downloaded by {who} on {date}"},
	.downloaded_anyone = {"Gedownload door iemand met de link op {date}",
			      "Downloaded by someone with the link on {date}"},
	.not_downloaded = {"Nog niet gedownload", "Not downloaded yet"},
	.activity_label = {"Wat er gebeurde", "What happened"},
	.code_sent = {"{date}: code gestuurd naar {who}", "{date}: code sent to {who}"},
	.verified = {"{date}: {who} heeft zich bevestigd", "{date}: {who} proved who they are"},
	.code_failed = {"{date}: een verkeerde code is ingevoerd", "{date}: a wrong code was typed"},
	.locked = {"{date}: te veel verkeerde codes, een uur geblokkeerd",
		   "{date}: too many wrong codes, locked for an hour"},
	.receipt_sent = {"{date}: ontvangstbevestiging aan u gestuurd",
			 "{date}: a receipt was sent to you"},
	.ext_event = {"{date}: verlengd", "{date}: extended"},
	.extend_label = {"Verlengen", "Extend"},
	.extend_days = {"Met hoeveel dagen", "By how many days"},
	.extend_button = {"Verlengen", "Extend"},
	.extend_none = {"Langer dan {date} kan niet: dat is de langste bewaartermijn.",
			"Not past {date}: that is the longest time files are kept."},
	.revoke_label = {"Intrekken", "Revoke"},
	.revoke_text = {"Intrekken verwijdert de bestanden meteen. De ontvangers kunnen ze daarna "
			"niet meer downloaden; hun link zegt dat u ze hebt ingetrokken. Dit kan "
			"niet ongedaan worden gemaakt.",
			"Revoking deletes the files at once. The recipients can no longer download "
			"them; their link says that you withdrew them. This cannot be undone."},
	.revoke_button = {"Nu intrekken", "Revoke now"},
	.revoked_title = {"Ingetrokken", "Revoked"},
	.revoked_heading = {"De bestanden zijn ingetrokken", "The files have been revoked"},
	.revoked_text = {"De bestanden zijn verwijderd. Wie de link opent, leest dat u ze hebt "
			 "ingetrokken.",
			 "The files have been deleted. Whoever opens the link reads that you "
			 "withdrew them."},
	.refused_title = {"Niet gelukt", "Not done"},
	.refused_heading = {"Er is niets veranderd", "Nothing was changed"},
	.refused_text = {"Dit verzoek kwam niet van de pagina zelf. Open de link uit uw bericht "
			 "opnieuw en probeer het daar.",
			 "This request did not come from the page itself. Open the link from your "
			 "message again and try there."},
	.too_far = {"Langer dan {date} kan niet: dat is de langste bewaartermijn.",
		    "Not past {date}: that is the longest time files are kept."},
	.back = {"Terug", "Back"},
	.day_one = {"1 dag", "1 day"},
	.day_many = {"{n} dagen", "{n} days"},
	.footer = {"Deze pagina is alleen voor u, de afzender: stuur de link niet door. "
		   "Deze pagina gebruikt geen cookies.",
		   "This page is for you, the sender, only: do not forward its link. "
		   "This page uses no cookies."},
};
// clang-format on

/* A date and a time of day, as people read them: "3 maart 2026, 14:05". */
static void date_time(const char *lang, int64_t when, char *out, size_t size)
{
	time_t t = (time_t)when;
	struct tm tm;
	char date[64];

	bd_format_date(lang, t, date, sizeof(date));
	localtime_r(&t, &tm);
	snprintf(out, size, "%s, %02d:%02d", date, tm.tm_hour, tm.tm_min);
}

static void put_manage_foot(GString *out, const struct vars *v)
{
	g_string_append(out, "</main>\n<footer><p>");
	put_text(out, &mg.footer, v);
	g_string_append(out, "</p></footer>\n</div>\n</body>\n</html>\n");
}

/* One line of what happened, for an event the sender is told about; 0 for the rest. */
static const struct text *event_words(enum bd_event_kind kind)
{
	switch (kind) {
	case BD_EVENT_CODE_SENT: return &mg.code_sent;
	case BD_EVENT_VERIFIED: return &mg.verified;
	case BD_EVENT_CODE_FAILED: return &mg.code_failed;
	case BD_EVENT_LOCKED: return &mg.locked;
	case BD_EVENT_RECEIPT_SENT: return &mg.receipt_sent;
	case BD_EVENT_EXTENDED: return &mg.ext_event;
	default: return NULL;
	}
}

static void put_form_start(GString *out, const struct gw_pages *p, const char *token,
                           const char *action, const char *form, int en)
{
	g_string_append(out, "<form method=\"post\" action=\"");
	bd_html_append_escaped(out, p->base_path);
	g_string_append_printf(out, "/m/%s/%s?lang=%s\">\n", token, action, en ? "en" : "nl");
	g_string_append_printf(out, "<input type=\"hidden\" name=\"form\" value=\"%s\">\n", form);
}

char *gw_pages_render_manage(const struct gw_pages *p, const char *lang,
                             const struct bd_manifest *m, const struct gw_manage_view *mv,
                             size_t *len)
{
	GString *out = g_string_sized_new(8192);
	char date[64], size[32], when[80];
	struct vars v = {.en = strcmp(lang, "en") == 0, .org = p->organisation, .date = date};
	size_t shown = 0;

	put_head(p, out, &mg.title, &v);
	g_string_append(out, "<h1>");
	put_text(out, &mg.heading, &v);
	g_string_append(out, "</h1>\n");
	if (mv->extended_to != 0) {
		bd_format_date(lang, (time_t)mv->extended_to, date, sizeof(date));
		g_string_append(out, "<p class=\"done\" role=\"status\">");
		put_text(out, &mg.extended, &v);
		g_string_append(out, "</p>\n");
	}
	date_time(lang, m->created, date, sizeof(date));
	g_string_append(out, "<p class=\"lead\">");
	put_text(out, &mg.sent, &v);
	g_string_append(out, "</p>\n<p class=\"until\">");
	bd_format_date(lang, (time_t)m->expires, date, sizeof(date));
	put_text(out, &mg.until, &v);
	g_string_append(out, "</p>\n");
	if (m->nrecipients > 0) {
		g_string_append(out, "<h2 class=\"section\">");
		put_text(out, &mg.recipients_label, &v);
		g_string_append(out, "</h2>\n<ul class=\"events\">\n");
		for (size_t i = 0; i < m->nrecipients; i++) {
			g_string_append(out, "<li>");
			bd_html_append_escaped(out, m->recipients[i]);
			g_string_append(out, "</li>\n");
		}
		g_string_append(out, "</ul>\n");
	}
	g_string_append(out, "<h2 class=\"section\">");
	put_text(out, &mg.files_label, &v);
	g_string_append(out, "</h2>\n<ul class=\"files\">\n");
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct bd_manifest_file *f = &m->files[i];
		size_t downloads = 0;

		bd_format_size(lang, f->size, size, sizeof(size));
		g_string_append(out, "<li class=\"file\"><div class=\"meta\"><p class=\"name\">");
		bd_html_append_escaped(out, f->name);
		g_string_append(out, "</p><p class=\"detail\">");
		bd_html_append_escaped(out, size);
		g_string_append(out, "</p>\n<ul class=\"events\">\n");
		for (size_t k = 0; k < mv->nevents; k++) {
			const struct bd_event *e = &mv->events[k];

			if (e->kind != BD_EVENT_COMPLETE || e->file != f->index)
				continue;
			date_time(lang, e->at, when, sizeof(when));
			v.date = when;
			v.who = e->who;
			g_string_append(out, "<li>");
			put_text(out, e->who[0] ? &mg.downloaded_by : &mg.downloaded_anyone, &v);
			g_string_append(out, "</li>\n");
			downloads++;
		}
		if (downloads == 0) {
			g_string_append(out, "<li>");
			put_text(out, &mg.not_downloaded, &v);
			g_string_append(out, "</li>\n");
		}
		g_string_append(out, "</ul></div></li>\n");
	}
	g_string_append(out, "</ul>\n");
	for (size_t k = 0; k < mv->nevents; k++) {
		const struct bd_event *e = &mv->events[k];
		const struct text *t = event_words(e->kind);

		if (t == NULL)
			continue;
		if (shown++ == 0) {
			g_string_append(out, "<h2 class=\"section\">");
			put_text(out, &mg.activity_label, &v);
			g_string_append(out, "</h2>\n<ul class=\"events\">\n");
		}
		date_time(lang, e->at, when, sizeof(when));
		v.date = when;
		v.who = e->who;
		g_string_append(out, "<li>");
		put_text(out, t, &v);
		g_string_append(out, "</li>\n");
	}
	if (shown > 0)
		g_string_append(out, "</ul>\n");
	v.date = date;
	v.who = NULL;
	g_string_append(out, "<h2 class=\"section\">");
	put_text(out, &mg.extend_label, &v);
	g_string_append(out, "</h2>\n");
	if (mv->max_days > 0) {
		static const unsigned steps[] = {1, 3, 7, 14, 30, 60, 90, 180, 365};

		put_form_start(out, p, mv->token, "extend", mv->form, v.en);
		g_string_append(out, "<label for=\"days\">");
		put_text(out, &mg.extend_days, &v);
		g_string_append(out, "</label>\n<select id=\"days\" name=\"days\">\n");
		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
			unsigned d = steps[i] < mv->max_days ? steps[i] : mv->max_days;

			v.n = d;
			g_string_append_printf(out, "<option value=\"%u\">", d);
			put_text(out, d == 1 ? &mg.day_one : &mg.day_many, &v);
			g_string_append(out, "</option>\n");
			if (d == mv->max_days)
				break;
		}
		g_string_append(out, "</select>\n<button class=\"btn second\" type=\"submit\">");
		put_text(out, &mg.extend_button, &v);
		g_string_append(out, "</button>\n</form>\n");
	} else {
		g_string_append(out, "<p class=\"muted\">");
		put_text(out, &mg.extend_none, &v);
		g_string_append(out, "</p>\n");
	}
	g_string_append(out, "<h2 class=\"section\">");
	put_text(out, &mg.revoke_label, &v);
	g_string_append(out, "</h2>\n<p>");
	put_text(out, &mg.revoke_text, &v);
	g_string_append(out, "</p>\n");
	put_form_start(out, p, mv->token, "revoke", mv->form, v.en);
	g_string_append(out, "<button class=\"btn danger\" type=\"submit\">");
	put_text(out, &mg.revoke_button, &v);
	g_string_append(out, "</button>\n</form>\n");
	put_manage_foot(out, &v);
	*len = out->len;
	return g_string_free(out, FALSE);
}

void gw_pages_manage(const struct gw_pages *p, const char *lang, const struct bd_manifest *m,
                     const struct gw_manage_view *v, struct gw_html *out)
{
	*out = (struct gw_html){.status = MHD_HTTP_OK, .lang = lang, .csp = p->csp_post};
	out->body = gw_pages_render_manage(p, lang, m, v, &out->len);
}

void gw_pages_manage_revoked(const struct gw_pages *p, const char *lang, struct gw_html *out)
{
	GString *body = g_string_sized_new(4096);
	struct vars v = {.en = strcmp(lang, "en") == 0, .org = p->organisation};

	put_head(p, body, &mg.revoked_title, &v);
	g_string_append(body, "<h1>");
	put_text(body, &mg.revoked_heading, &v);
	g_string_append(body, "</h1>\n<p class=\"lead\">");
	put_text(body, &mg.revoked_text, &v);
	g_string_append(body, "</p>\n");
	put_foot(body, &v, 0);
	*out = (struct gw_html){.status = MHD_HTTP_OK, .lang = lang, .csp = p->csp};
	out->len = body->len;
	out->body = g_string_free(body, FALSE);
}

void gw_pages_manage_refused(const struct gw_pages *p, const char *lang, const char *token,
                             int64_t max_date, struct gw_html *out)
{
	GString *body = g_string_sized_new(4096);
	char date[64] = "";
	struct vars v = {.en = strcmp(lang, "en") == 0, .org = p->organisation, .date = date};

	if (max_date != 0)
		bd_format_date(lang, (time_t)max_date, date, sizeof(date));
	put_head(p, body, &mg.refused_title, &v);
	g_string_append(body, icon_alert);
	g_string_append(body, "<h1>");
	put_text(body, &mg.refused_heading, &v);
	g_string_append(body, "</h1>\n<p class=\"lead\">");
	put_text(body, max_date != 0 ? &mg.too_far : &mg.refused_text, &v);
	g_string_append(body, "</p>\n");
	if (token != NULL) {
		g_string_append(body, "<p class=\"all\"><a class=\"btn second\" href=\"");
		bd_html_append_escaped(body, p->base_path);
		g_string_append_printf(body, "/m/%s?lang=%s\">", token, v.en ? "en" : "nl");
		put_text(body, &mg.back, &v);
		g_string_append(body, "</a></p>\n");
	}
	put_foot(body, &v, 0);
	*out = (struct gw_html){.status = max_date != 0 ? MHD_HTTP_UNPROCESSABLE_CONTENT
	                                                : MHD_HTTP_FORBIDDEN,
	                        .lang = lang,
	                        .csp = p->csp};
	out->len = body->len;
	out->body = g_string_free(body, FALSE);
}

void gw_pages_security_headers(struct MHD_Response *resp, int https)
{
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
	if (https)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_STRICT_TRANSPORT_SECURITY,
		                        "max-age=31536000");
}

int gw_pages_logo(const struct gw_pages *p, const uint8_t **data, size_t *len, const char **type)
{
	if (p == NULL || p->logo == NULL)
		return -1;
	*data = p->logo;
	*len = p->logo_len;
	*type = p->logo_type;
	return 0;
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

struct gw_pages *gw_pages_new(const struct bd_conf_gateway *conf, struct bd_error *err)
{
	struct gw_pages *p = bd_calloc(1, sizeof(*p));
	const char *url = conf->public_url, *host, *path;
	uint8_t hash[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
	                                   sodium_base64_VARIANT_ORIGINAL)];
	char script_b64[sizeof(b64)];

	p->organisation = bd_strdup(conf->organisation);
	host = strstr(url, "://");
	path = host != NULL ? strchr(host + 3, '/') : NULL;
	p->base_path = bd_strdup(path != NULL ? path : "");
	if (conf->logo[0] != '\0' && load_logo(p, conf->logo, err) < 0) {
		gw_pages_free(&p);
		return NULL;
	}
	crypto_hash_sha256(hash, (const uint8_t *)style, sizeof(style) - 1);
	sodium_bin2base64(b64, sizeof(b64), hash, sizeof(hash), sodium_base64_VARIANT_ORIGINAL);
	snprintf(p->csp, sizeof(p->csp),
	         "default-src 'none'; style-src 'sha256-%s'; img-src 'self' data:; "
	         "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
	         b64);
	crypto_hash_sha256(hash, (const uint8_t *)upload_script, sizeof(upload_script) - 1);
	sodium_bin2base64(script_b64, sizeof(script_b64), hash, sizeof(hash),
	                  sodium_base64_VARIANT_ORIGINAL);
	snprintf(p->csp_form, sizeof(p->csp_form),
	         "default-src 'none'; style-src 'sha256-%s'; script-src 'sha256-%s'; "
	         "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
	         "base-uri 'none'; form-action 'self'",
	         b64, script_b64);
	snprintf(p->csp_post, sizeof(p->csp_post),
	         "default-src 'none'; style-src 'sha256-%s'; img-src 'self' data:; "
	         "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
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
