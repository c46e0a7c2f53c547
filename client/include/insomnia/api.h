/* insomnia/api.h: what every public header of libinsomnia shares.
 *
 * INSOMNIA_API marks the library's exported functions: the library is
 * built with hidden visibility, so nothing else leaves it and an
 * application's own functions (say, a parse_value of its own) can never
 * collide with the library's internals.  Every exported name starts with
 * insomnia_, every type with struct insomnia_ or enum insomnia_, every
 * macro with INSOMNIA_. */
#ifndef INSOMNIA_API_H
#define INSOMNIA_API_H

#if defined(__GNUC__) || defined(__clang__)
#define INSOMNIA_API __attribute__((visibility("default")))
#else
#define INSOMNIA_API
#endif

/* printf-style checking of a public function's format argument. */
#if defined(__GNUC__) || defined(__clang__)
#define INSOMNIA_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define INSOMNIA_PRINTF(fmt, args)
#endif

#ifdef __cplusplus
#define INSOMNIA_BEGIN_DECLS extern "C" {
#define INSOMNIA_END_DECLS   }
#else
#define INSOMNIA_BEGIN_DECLS
#define INSOMNIA_END_DECLS
#endif

#endif
