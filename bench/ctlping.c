/*
 * ctlping: how fast running agents answer `weft status`, without the
 * cost of starting a client process each time (bench/insider.sh).
 *
 *   weft-ctlping SECONDS INTERVAL_MS DIR...
 *
 * Every INTERVAL_MS, for SECONDS, asks the next DIR's agent (in turn)
 * for its status over DIR/agent.sock (the request `weft status` makes:
 * connect, ask, read the whole answer) and prints one line per answer:
 *
 *   MS_SINCE_START DIR MICROSECONDS
 *
 * or "MS_SINCE_START DIR fail: WHY" when the agent did not answer (the
 * client waits at most 10 s a step). Exit status 0, or 2 on bad
 * arguments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "agent/control.h"
#include "lib/err.h"

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int
main(int argc, char **argv)
{
	Weft__ControlResponse *resp = NULL;
	uint64_t t0, end, t, next;
	long secs, iv;
	int k = 0, ndirs;

	if (argc < 4 || (secs = strtol(argv[1], NULL, 10)) <= 0 ||
	    secs > 86400 || (iv = strtol(argv[2], NULL, 10)) <= 0 ||
	    iv > 60000) {
		fprintf(stderr, "usage: weft-ctlping SECONDS INTERVAL_MS "
				"DIR...\n");
		return 2;
	}
	ndirs = argc - 3;
	t0 = now_us();
	end = t0 + (uint64_t)secs * 1000000u;
	for (next = t0; next < end; next += (uint64_t)iv * 1000u, k++) {
		const char *dir = argv[3 + k % ndirs];
		weft_err_t err = {0};

		if ((t = now_us()) < next)
			usleep((useconds_t)(next - t));
		t = now_us();
		if (weft_ctl_call(dir, WEFT__CONTROL_OP__CTL_STATUS, 0, &resp,
				  &err) != 0) {
			printf("%llu %s fail: %s\n",
			       (unsigned long long)((t - t0) / 1000), dir,
			       err.msg);
		} else {
			printf("%llu %s %llu\n",
			       (unsigned long long)((t - t0) / 1000), dir,
			       (unsigned long long)(now_us() - t));
			weft__control_response__free_unpacked(resp, NULL);
		}
		resp = NULL;
		fflush(stdout);
	}
	return 0;
}
