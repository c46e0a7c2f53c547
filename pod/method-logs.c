/* method-logs.c: the last lines of processes' logs, interleaved by time,
 * and with follow, the lines to come (docs/protocol.md, "logs").
 *
 * The reply is one protocol line, so it holds at most what fits in
 * PROTO_LINE_MAX: the newest records that fit are kept and "omitted"
 * counts the older ones left out.  Memory stays bounded the same way
 * while reading: each process keeps only its newest records that fit. */
#include "method-args.h"

#include <stdlib.h>
#include <string.h>

#include "jsonstr.h"
#include "logline.h"
#include "proclog.h"
#include "proto.h"

#define LOGS_DEFAULT_LINES 10
#define LOGS_MAX_LINES     100000
/* Room kept for {"id":...,"result":{"lines":[...],"omitted":N}}. */
#define LOGS_REPLY_BUDGET (PROTO_LINE_MAX - 1024)

struct rec {
	json_t *obj;
	size_t size; /* its compact JSON length, plus a comma */
	size_t proc; /* index in the names asked: ties keep that order */
	size_t seq;  /* order within its process */
	char time[LOGLINE_TIME_LEN + 1];
};

/* Records of one process, oldest first, from v[first]. */
struct recs {
	struct rec *v;
	size_t first, n, cap, bytes, omitted;
	size_t proc, seq;
	const char *name;
	bool oom;
};

static void rec_drop(struct rec *r)
{
	json_decref(r->obj);
	r->obj = NULL;
}

static json_t *record_json(const char *process, const struct logline *l)
{
	json_t *o = json_pack("{s:o, s:s, s:s, s:o}", "process",
	                      jsonstr_new(process), "time", l->time, "stream",
	                      l->stream == LOGLINE_ERR ? "err" : "out", "text",
	                      jsonstr_newn(l->text, l->len));

	if (o && l->continued &&
	    json_object_set_new(o, "continued", json_true()) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Keep within the budget: the oldest go first. */
static void recs_trim(struct recs *rs)
{
	while (rs->bytes > LOGS_REPLY_BUDGET && rs->first < rs->n) {
		rs->bytes -= rs->v[rs->first].size;
		rec_drop(&rs->v[rs->first++]);
		rs->omitted++;
	}
	if (rs->first > 0 && rs->first >= rs->n / 2) {
		memmove(rs->v, rs->v + rs->first,
		        (rs->n - rs->first) * sizeof *rs->v);
		rs->n -= rs->first;
		rs->first = 0;
	}
}

static int recs_push(struct recs *rs, struct rec r)
{
	struct rec *bigger;

	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 64;
		bigger = realloc(rs->v, rs->cap * sizeof *bigger);
		if (!bigger)
			return -1;
		rs->v = bigger;
	}
	rs->v[rs->n++] = r;
	rs->bytes += r.size;
	recs_trim(rs);
	return 0;
}

/* proclog_read_last's callback: one whole record of the file. */
static void on_record(void *arg, const char *line, size_t len)
{
	struct recs *rs = arg;
	struct logline l;
	struct rec r = {.proc = rs->proc};

	if (rs->oom || !logline_decode(line, len, &l))
		return; /* a torn record (a crash mid-write) is skipped */
	r.seq = rs->seq++;
	memcpy(r.time, l.time, sizeof r.time);
	if (!(r.obj = record_json(rs->name, &l))) {
		rs->oom = true;
		return;
	}
	r.size = json_dumpb(r.obj, NULL, 0, JSON_COMPACT) + 1;
	if (recs_push(rs, r) < 0) {
		rec_drop(&r);
		rs->oom = true;
	}
}

static int by_time(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	int c = strcmp(x->time, y->time);

	if (c)
		return c;
	if (x->proc != y->proc)
		return x->proc < y->proc ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct gathered {
	struct rec *v;
	size_t n;
	size_t omitted;
};

/* Move each process's records into one array. */
static int gather(struct recs *per, size_t nproc, struct gathered *g)
{
	size_t total = 0;

	for (size_t i = 0; i < nproc; i++) {
		total += per[i].n - per[i].first;
		g->omitted += per[i].omitted;
	}
	g->v = malloc((total ? total : 1) * sizeof *g->v);
	if (!g->v)
		return -1;
	for (size_t i = 0; i < nproc; i++) {
		size_t k = per[i].n - per[i].first;
		if (k == 0)
			continue; /* per[i].v may be NULL: memcpy's arguments
			             must be valid pointers even for 0 bytes */
		memcpy(g->v + g->n, per[i].v + per[i].first, k * sizeof *g->v);
		g->n += k;
		per[i].n = per[i].first; /* moved: not dropped twice */
	}
	return 0;
}

/* {"lines":[...]} oldest first, the newest that fit; "omitted" when
 * some did not. */
static json_t *build_reply(struct gathered *g)
{
	json_t *lines = json_array(), *result;
	size_t bytes = 0, from = g->n;

	qsort(g->v, g->n, sizeof *g->v, by_time);
	while (from > 0 && bytes + g->v[from - 1].size <= LOGS_REPLY_BUDGET)
		bytes += g->v[--from].size;
	g->omitted += from;
	for (size_t i = from; lines && i < g->n; i++)
		if (json_array_append(lines, g->v[i].obj) < 0) {
			json_decref(lines);
			lines = NULL;
		}
	if (!lines)
		return NULL;
	result = json_pack("{s:o}", "lines", lines);
	if (result && g->omitted &&
	    json_object_set_new(result, "omitted",
	                        json_integer((json_int_t)g->omitted)) < 0) {
		json_decref(result);
		return NULL;
	}
	return result;
}

/* The names to read: those asked, else every process (manifest order,
 * from ps), each checked to exist. */
static json_t *process_list(struct method_env *env,
                            const struct method_names *names,
                            struct insomnia_error *err)
{
	return supervisor_ps(env->pod->supervisor, names->v, names->n, err);
}

static int read_one(int dirfd, struct recs *rs, size_t lines,
                    struct insomnia_error *err)
{
	if (proclog_read_last(dirfd, rs->name, lines, on_record, rs, err) < 0)
		return -1;
	if (rs->oom) {
		insomnia_error_clear(err); /* out of memory */
		return -1;
	}
	return 0;
}

static json_t *read_logs(struct method_env *env, json_t *procs, size_t lines,
                         struct insomnia_error *err)
{
	json_t *list = json_object_get(procs, "processes");
	size_t nproc = json_array_size(list);
	struct recs *per = calloc(nproc ? nproc : 1, sizeof *per);
	struct gathered g = {NULL, 0, 0};
	int dirfd = supervisor_logs_dirfd(env->pod->supervisor);
	json_t *result = NULL;
	size_t i;

	for (i = 0; per && i < nproc; i++) {
		per[i].proc = i;
		per[i].name = json_string_value(
		    json_object_get(json_array_get(list, i), "name"));
		if (!per[i].name || read_one(dirfd, &per[i], lines, err) < 0)
			goto out;
	}
	if (per && gather(per, nproc, &g) == 0)
		result = build_reply(&g);
out:
	for (size_t k = 0; per && k < nproc; k++) {
		for (size_t j = per[k].first; j < per[k].n; j++)
			rec_drop(&per[k].v[j]);
		free(per[k].v);
	}
	for (size_t k = 0; k < g.n; k++)
		rec_drop(&g.v[k]);
	free(g.v);
	free(per);
	return result;
}

/* lines: an integer 0..LOGS_MAX_LINES, default LOGS_DEFAULT_LINES;
 * follow: a boolean.  -1 with fail. */
static int get_options(json_t *params, size_t *lines, bool *follow,
                       struct method_fail *fail)
{
	json_t *n = json_object_get(params, "lines");
	json_t *f = json_object_get(params, "follow");

	*lines = LOGS_DEFAULT_LINES;
	*follow = false;
	if (n && (!json_is_integer(n) || json_integer_value(n) < 0 ||
	          json_integer_value(n) > LOGS_MAX_LINES)) {
		method_bad_request(fail,
		                   "lines must be an integer from 0 to %d",
		                   LOGS_MAX_LINES);
		return -1;
	}
	if (f && !json_is_boolean(f)) {
		method_bad_request(fail, "follow must be true or false");
		return -1;
	}
	if (n)
		*lines = (size_t)json_integer_value(n);
	*follow = f && json_is_true(f);
	return 0;
}

static json_t *logs_run(struct method_env *env, json_t *params,
                        struct method_fail *fail)
{
	struct method_names names;
	struct insomnia_error err;
	json_t *procs, *result = NULL;
	size_t lines;
	bool follow;

	if (get_options(params, &lines, &follow, fail) < 0 ||
	    method_names_get(params, false, &names, fail) < 0)
		return NULL;
	insomnia_error_clear(&err);
	procs = process_list(env, &names, &err);
	if (procs)
		result = read_logs(env, procs, lines, &err);
	/* Subscribed in the same turn of the loop as the read: no line
	 * falls between the two. */
	if (result && follow &&
	    method_subscribe(env, EVENT_LOG, names.v, names.n) < 0) {
		json_decref(result);
		result = NULL;
		insomnia_error_clear(&err);
	}
	json_decref(procs);
	method_names_free(&names);
	return result ? result : method_fail_from(fail, &err);
}

const struct method method_logs = {"logs", logs_run};
