/*
 * log.c: the agent's log: one line per event on stderr, "TIME LEVEL
 * text" (UTC, milliseconds; control characters in the text become
 * spaces, so an event is always one line), and a token bucket per kind
 * of line so a flood of refused connections cannot fill the disk while
 * single events always show.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "agent/agent_int.h"

#define AG_LOG_BURST 20.0
#define AG_LOG_RATE 5.0 /* lines a second, per kind, after a burst */

/* One line, whatever the text holds: a line may quote data (a query's
 * error names the value that failed), so control characters (a tab, a
 * newline) become spaces and cannot split or forge lines. */
void
ag_log(const char *level, const char *fmt, ...)
{
	char ts[32], line[4096];
	struct timespec now;
	struct tm tm;
	va_list ap;
	size_t i;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (i = 0; line[i]; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = ' ';
	fprintf(stderr, "%s.%03ldZ %s %s\n", ts, now.tv_nsec / 1000000, level,
		line);
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
