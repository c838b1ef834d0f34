/*
 * filename.h - attachment names made safe to show and to store.
 *
 * A name from a message is whatever the sender's client (or an attacker)
 * wrote: paths, control characters, bidi overrides that hide the real
 * extension (U+202E), invalid UTF-8, hundreds of bytes. The manifest, the
 * notice and the download page only ever see the sanitised form. Nameless
 * parts get a generated name from their content type ("bijlage-1.pdf").
 * Every returned string is malloc'ed; the caller frees it.
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#ifndef BD_FILENAME_H
#define BD_FILENAME_H

#include <stddef.h>

/* Longest sanitised name in bytes (UTF-8), extension included. */
#define BD_FILENAME_MAX 180

/*
 * The display and storage form of RAW (any bytes): last path component,
 * valid NFC UTF-8, no control or Windows-reserved characters, no
 * invisible ones (format characters such as bidi controls and zero-width
 * spaces, tags, variation selectors), every run of white space or blank
 * look-alikes (Unicode space separators, Hangul fillers, the braille blank)
 * one ASCII space, no leading dots, no trailing dots or spaces, at most
 * BD_FILENAME_MAX bytes with the extension kept. NULL when nothing usable
 * remains (the caller then generates a name).
 */
char *bd_filename_sanitise(const char *raw);

/* Extension (without dot) for a content type such as "image/png"; "bin" if unknown. */
const char *bd_filename_extension(const char *content_type);

/* The content type a file NAME's extension suggests (the reverse of
 * bd_filename_extension); "application/octet-stream" if unknown. Static. */
const char *bd_filename_content_type(const char *name);

/* "bijlage-N.EXT" (LANG "nl") or "attachment-N.EXT" (any other language). */
char *bd_filename_generate(const char *lang, unsigned n, const char *content_type);

/* NAME, or "stem (2).ext", "stem (3).ext", ... (at most BD_FILENAME_MAX bytes)
 * so that it differs from each of the N sanitised names in TAKEN under Unicode
 * case folding (bd_names_unique in names.h). */
char *bd_filename_unique(const char *name, char *const *taken, size_t n);

#endif
