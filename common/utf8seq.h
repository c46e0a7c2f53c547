/* utf8seq.h: UTF-8 sequences, the one validator of the project: the
 * TOML reader, JSON strings made from bytes (jsonstr) and messages cut
 * to a buffer all agree on what a valid sequence is (no overlong forms,
 * no surrogates, nothing past U+10FFFF). */
#ifndef INSOMNIA_UTF8SEQ_H
#define INSOMNIA_UTF8SEQ_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 when the byte
 * at s does not start one within avail bytes. */
size_t utf8_seq_valid(const char *s, size_t avail);

/* Are all len bytes of s valid UTF-8? */
bool utf8_valid(const char *s, size_t len);

/* The longest prefix of s (len bytes) of at most max bytes that does not
 * end inside a valid multi-byte sequence: where to cut a text so a
 * character is never split. */
size_t utf8_cut(const char *s, size_t len, size_t max);

#endif
