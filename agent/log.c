/*
 * log.c: the agent's log: one line per event on stderr, "TIME LEVEL
 * text" (UTC, milliseconds; control characters in the text become
 * spaces, so an event is always one line), and a token bucket per kind
 * of line so a flood of refused connections cannot fill the disk while
 * single events always show.
 *
 * The loop may hold its lines for one write (ag_log_hold, ag_log_release):
 * the catalog writer's batch of "learnt" lines, ~3,000 an agent in the
 * insider flood's first seconds, was one write(2) a line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/agent_int.h"

#define AG_LOG_BURST 20.0
#define AG_LOG_RATE 5.0 /* lines a second, per kind, after a burst */

/* Lines held by the loop thread (ag_log_hold), written at its release
 * or when full; held_on is each thread's own, so another thread's lines
 * go out at once. */
static __thread int held_on;
static struct {
	size_t n;
	char buf[64 * 1024];
} held;

static void
log_write_held(void)
{
	if (held.n > 0)
		(void)fwrite(held.buf, 1, held.n, stderr);
	held.n = 0;
	fflush(stderr);
}

void
ag_log_hold(void)
{
	held.n = 0;
	held_on = 1;
}

void
ag_log_release(void)
{
	held_on = 0;
	log_write_held();
}

/* One line, whatever the text holds: a line may quote data (a query's
 * error names the value that failed), so control characters (a tab, a
 * newline) become spaces and cannot split or forge lines. */
void
ag_log(const char *level, const char *fmt, ...)
{
	char ts[32], line[4096], out[4096 + 64];
	struct timespec now;
	struct tm tm;
	va_list ap;
	size_t i;
	int n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (i = 0; line[i]; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = ' ';
	n = snprintf(out, sizeof(out), "%s.%03ldZ %s %s\n", ts,
		     now.tv_nsec / 1000000, level, line);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(out))
		n = (int)sizeof(out) - 1;
	if (held_on) {
		if (held.n + (size_t)n > sizeof(held.buf))
			log_write_held();
		memcpy(held.buf + held.n, out, (size_t)n);
		held.n += (size_t)n;
		return;
	}
	(void)fwrite(out, 1, (size_t)n, stderr);
	fflush(stderr);
}

/* 1 if a line of this kind may be logged now, else counts it skipped: a
 * token bucket per kind (a burst of AG_LOG_BURST lines, then AG_LOG_RATE
 * a second), so a flood cannot fill the disk but single events always
 * show. */
int
ag_log_ok(agent_t *a, int kind)
{
	uint64_t now = uv_now(a->loop);
	double t = a->lim_tokens[kind];

	if (a->lim_at[kind] == 0)
		t = AG_LOG_BURST;
	else
		t += (double)(now - a->lim_at[kind]) * AG_LOG_RATE / 1000.0;
	if (t > AG_LOG_BURST)
		t = AG_LOG_BURST;
	a->lim_at[kind] = now ? now : 1;
	if (t < 1) {
		a->lim_tokens[kind] = t;
		a->lim_skipped[kind]++;
		return 0;
	}
	a->lim_tokens[kind] = t - 1;
	if (a->lim_skipped[kind] > 0)
		ag_log("warn", "(%u similar lines suppressed)",
		       a->lim_skipped[kind]);
	a->lim_skipped[kind] = 0;
	return 1;
}
