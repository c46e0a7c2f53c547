/* test_exports.c: libinsomnia exports its public API and nothing else.
 *
 * The dynamic symbol table of the built library (nm -D) must equal the
 * set of functions the public headers mark INSOMNIA_API, and every name
 * in it must start with insomnia_.  An internal function that leaks (say
 * parse_value, which an application may well define too) or a public
 * one that was never marked fails here. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAMES 512

struct names {
	char *v[MAX_NAMES];
	int n;
};

static void add(struct names *s, const char *name, size_t len)
{
	for (int i = 0; i < s->n; i++)
		if (strlen(s->v[i]) == len && strncmp(s->v[i], name, len) == 0)
			return;
	cr_assert_lt(s->n, MAX_NAMES);
	s->v[s->n++] = strndup(name, len);
}

static bool has(const struct names *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return true;
	return false;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	cr_assert(v && *v, "%s is not set (run through meson test)", name);
	return v;
}

/* Defined dynamic symbols of the library, as nm -D prints them. */
static void read_exports(struct names *s)
{
	char cmd[4096], line[1024], type, name[512];
	FILE *p;

	snprintf(cmd, sizeof cmd, "nm -D --defined-only '%s'",
	         env("INSOMNIA_TEST_LIB"));
	p = popen(cmd, "r");
	cr_assert(p, "cannot run nm");
	while (fgets(line, sizeof line, p))
		if (sscanf(line, "%*s %c %511s", &type, name) == 2)
			add(s, name, strlen(name));
	cr_assert_eq(pclose(p), 0, "nm failed on %s", env("INSOMNIA_TEST_LIB"));
	cr_assert_gt(s->n, 0, "nm listed no symbol");
}

/* The identifier just before the first '(' after each INSOMNIA_API that
 * starts a line (a declaration; not the macro's definition or a comment). */
static void scan_header(struct names *s, const char *text)
{
	const char *p = text;

	while ((p = strstr(p, "INSOMNIA_API"))) {
		const char *paren, *end;

		bool starts_line = p == text || p[-1] == '\n';

		p += strlen("INSOMNIA_API");
		if (!starts_line || isalnum((unsigned char)*p) || *p == '_')
			continue;
		paren = strchr(p, '(');
		if (!paren || memchr(p, ';', (size_t)(paren - p)))
			continue;
		end = paren;
		while (end > p && isspace((unsigned char)end[-1]))
			end--;
		const char *start = end;
		while (start > p &&
		       (isalnum((unsigned char)start[-1]) || start[-1] == '_'))
			start--;
		if (end > start)
			add(s, start, (size_t)(end - start));
		p = paren;
	}
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	cr_assert(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	cr_assert(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static void read_declared(struct names *s, const char *dir)
{
	char path[4096];
	struct dirent *e;
	DIR *d = opendir(dir);

	cr_assert(d, "cannot open %s", dir);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char *text;

		if (len < 3 || strcmp(e->d_name + len - 2, ".h") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		text = slurp(path);
		scan_header(s, text);
		free(text);
	}
	closedir(d);
}

static void free_names(struct names *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->v[i]);
}

/* Symbols a sanitizer build adds on its own; they are not ours. */
static bool from_toolchain(const char *name)
{
	return strncmp(name, "__", 2) == 0;
}

Test(exports, every_exported_name_is_prefixed)
{
	struct names exported = {0};

	read_exports(&exported);
	for (int i = 0; i < exported.n; i++)
		if (!from_toolchain(exported.v[i]))
			cr_expect(strncmp(exported.v[i], "insomnia_", 9) == 0,
			          "exported without the insomnia_ prefix: %s",
			          exported.v[i]);
	free_names(&exported);
}

Test(exports, exactly_the_public_api_is_exported)
{
	struct names exported = {0}, declared = {0};

	read_exports(&exported);
	read_declared(&declared, env("INSOMNIA_TEST_HEADERS"));
	read_declared(&declared, env("INSOMNIA_TEST_GENERATED_HEADERS"));
	cr_assert_gt(declared.n, 10, "the header scan found %d functions",
	             declared.n);
	for (int i = 0; i < exported.n; i++)
		if (!from_toolchain(exported.v[i]))
			cr_expect(has(&declared, exported.v[i]),
			          "exported but not in a public header: %s",
			          exported.v[i]);
	for (int i = 0; i < declared.n; i++)
		cr_expect(has(&exported, declared.v[i]),
		          "declared INSOMNIA_API but not exported: %s",
		          declared.v[i]);
	free_names(&exported);
	free_names(&declared);
}
