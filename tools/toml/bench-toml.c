/* bench-toml: how fast toml_parse reads a large document, next to the
 * floor of just reading the file's bytes, and how much memory it needs.
 *
 * Usage: bench-toml [MEGABYTES] [RUNS]      (default 10 MB, 9 runs)
 * (BENCH_KEEP=1 keeps the generated file and prints its path.)
 *
 * The document is generated in memory (many tables, arrays of tables,
 * long arrays, strings with escapes, numbers, all four date/time kinds),
 * written to a temporary file, then each measurement runs RUNS times and
 * the median is printed.  Peak memory is measured in a fresh process
 * (this program re-executed) as the growth of getrusage's ru_maxrss
 * across the step, so the generator's own memory does not count. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "toml.h"

struct buf {
	char *data;
	size_t len, cap;
};

static void die(const char *what)
{
	fprintf(stderr, "bench-toml: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void add(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->cap - b->len < 4096) {
		b->cap = b->cap ? b->cap * 2 : 1 << 20;
		b->data = realloc(b->data, b->cap);
		if (!b->data)
			die("realloc");
	}
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* A small deterministic generator, so every run sees the same text. */
static unsigned next_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 8) & 0xffffff;
}

static void add_item(struct buf *b, unsigned g, unsigned i, unsigned *r)
{
	add(b, "\n[group_%04u.item_%05u]\n", g, i);
	add(b, "id = %u\n", next_rand(r));
	add(b,
	    "name = \"Widget \\\"deluxe\\\" no. %u\\twith caf\\u00e9 and "
	    "a \\\\ backslash\"\n",
	    i);
	add(b,
	    "description = 'A plain literal description of item %u in "
	    "group %u, long enough to look like real text.'\n",
	    i, g);
	add(b, "price = %u.%04u\n", next_rand(r) % 10000, next_rand(r) % 10000);
	add(b, "ratio = %u.%ue-%u\n", next_rand(r) % 10, next_rand(r) % 1000,
	    next_rand(r) % 20);
	add(b, "active = %s\n", next_rand(r) & 1 ? "true" : "false");
	add(b, "created = 2024-%02u-%02uT%02u:%02u:%02u.%06uZ\n",
	    1 + next_rand(r) % 12, 1 + next_rand(r) % 28, next_rand(r) % 24,
	    next_rand(r) % 60, next_rand(r) % 60, next_rand(r) % 1000000);
	add(b,
	    "updated = 2024-05-27 07:%02u:00\nday = 2024-05-27\n"
	    "at = 07:32:00.5\n",
	    next_rand(r) % 60);
	add(b, "tags = [\"alpha\", \"beta\", \"gamma-%u\", \"delta\"]\n",
	    next_rand(r) % 100);
	add(b, "samples = [%u, %u, %u, %u, %u, %u, %u, %u]\n", next_rand(r),
	    next_rand(r), next_rand(r), next_rand(r), next_rand(r),
	    next_rand(r), next_rand(r), next_rand(r));
	add(b, "point = { x = %u.5, y = -%u.25, label = \"p%u\" }\n",
	    next_rand(r) % 100, next_rand(r) % 100, i);
	add(b,
	    "\n[[group_%04u.item_%05u.events]]\nkind = \"start\"\n"
	    "when = 2024-05-27T07:32:00+02:00\n",
	    g, i);
	add(b,
	    "\n[[group_%04u.item_%05u.events]]\nkind = \"stop\"\n"
	    "when = 2024-05-27T09:12:00-05:30\n",
	    g, i);
}

/* One long multi-line array of floats per group. */
static void add_series(struct buf *b, unsigned g, unsigned *r)
{
	add(b, "\n[group_%04u]\nseries = [\n", g);
	for (unsigned k = 0; k < 400; k++)
		add(b, "  %u.%03u,%s", next_rand(r) % 1000, next_rand(r) % 1000,
		    k % 8 == 7 ? "\n" : "");
	add(b, "]\n");
}

static struct buf generate(size_t target)
{
	struct buf b = {0};
	unsigned r = 42, g = 0;

	add(&b, "# bench-toml generated document\ntitle = \"bench\"\n");
	while (b.len < target) {
		add_series(&b, g, &r);
		for (unsigned i = 0; i < 50 && b.len < target; i++)
			add_item(&b, g, i, &r);
		g++;
	}
	return b;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *data;
	size_t got = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	data = malloc((size_t)st.st_size + 1);
	if (!data)
		die("malloc");
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("read");
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return data;
}

static long maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Seconds of one step: "read" (file to buffer) or "parse" (buffer to
 * tree, the buffer read beforehand). */
static double time_step(const char *step, const char *path)
{
	size_t len;
	double t0, t;
	char *data;
	struct insomnia_error err;
	struct toml_value *root;

	if (strcmp(step, "read") == 0) {
		t0 = now();
		data = read_file(path, &len);
		t = now() - t0;
		free(data);
		return t;
	}
	data = read_file(path, &len);
	t0 = now();
	root = toml_parse(data, len, "bench", NULL, &err);
	t = now() - t0;
	if (!root) {
		fprintf(stderr, "bench-toml: %s\n", err.message);
		exit(1);
	}
	toml_free(root);
	free(data);
	return t;
}

/* In the re-executed child: print the ru_maxrss growth (KiB) of step. */
static int measure_child(const char *step, const char *path)
{
	long before, after;
	size_t len;
	char *data = NULL;
	struct insomnia_error err;
	struct toml_value *root = NULL;

	if (strcmp(step, "parse") == 0)
		data = read_file(path, &len);
	before = maxrss_kb();
	if (strcmp(step, "read") == 0)
		data = read_file(path, &len);
	else
		root = toml_parse(data, len, "bench", NULL, &err);
	after = maxrss_kb();
	printf("%ld\n", after - before);
	toml_free(root);
	free(data);
	return 0;
}

static long measure(const char *self, const char *step, const char *path)
{
	int fds[2];
	pid_t pid;
	char out[64] = "";
	ssize_t n;
	int status;

	if (pipe(fds) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(self, self, "--measure", step, path, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	n = read(fds[0], out, sizeof out - 1);
	close(fds[0]);
	waitpid(pid, &status, 0);
	return n > 0 ? atol(out) : -1;
}

int main(int argc, char **argv)
{
	size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 10;
	int runs = argc > 2 ? atoi(argv[2]) : 9;
	char path[] = "/tmp/bench-toml-XXXXXX";
	const char *steps[2] = {"read", "parse"};
	struct buf doc;
	double mbytes, t[64];
	int fd;

	if (argc == 4 && strcmp(argv[1], "--measure") == 0)
		return measure_child(argv[2], argv[3]);
	if (runs < 1 || runs > 64 || mb < 1)
		return fprintf(stderr, "usage: bench-toml [MB] [RUNS]\n"), 64;
	doc = generate(mb << 20);
	fd = mkstemp(path);
	if (fd < 0 || write(fd, doc.data, doc.len) != (ssize_t)doc.len)
		die("writing the document");
	close(fd);
	free(doc.data);
	mbytes = (double)doc.len / 1e6;
	printf("document: %.1f MB (%zu bytes), median of %d runs\n\n", mbytes,
	       doc.len, runs);
	printf("%-28s %10s %10s %16s %10s\n", "step", "time ms", "MB/s",
	       "peak mem (KiB)", "x input");
	for (int s = 0; s < 2; s++) {
		long kb = measure("/proc/self/exe", steps[s], path);
		double m;

		for (int i = 0; i < runs; i++)
			t[i] = time_step(steps[s], path);
		m = median(t, runs);
		printf("%-28s %10.2f %10.1f %16ld %10.2f\n",
		       s ? "toml_parse (buffer -> tree)"
		         : "floor: read file to buffer",
		       m * 1e3, mbytes / m, kb,
		       (double)kb * 1024.0 / (double)doc.len);
	}
	printf("\npeak mem: growth of ru_maxrss across the step, in a fresh "
	       "process;\nfor toml_parse it is the tree plus the parser's "
	       "temporary buffers,\nnot counting the input buffer.\n");
	if (!getenv("BENCH_KEEP"))
		unlink(path);
	else
		printf("kept %s\n", path);
	return 0;
}
