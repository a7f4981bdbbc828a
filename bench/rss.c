/*
 * rss: runs a command and reports its wall time, CPU time and peak memory.
 *
 *   rss OUTFILE COMMAND [ARG...]
 *
 * The command inherits standard input, output and error. When it ends, one
 * line is written to OUTFILE:
 *
 *   wall_s=1.234567 user_s=1.100000 sys_s=0.120000 maxrss_kib=81234 status=0
 *
 * maxrss_kib is the kernel's ru_maxrss from wait4(): the peak resident set
 * of the command's process, or of the largest of its descendants that it
 * waited for. The exit status is the command's (128 + N if signal N killed
 * it; 127 if it could not be run). Built by bench/run.sh; not installed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
rss_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
rss_tv(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	struct rusage ru;
	double start, wall;
	int wstatus, status;
	pid_t pid;
	FILE *out;

	if (argc < 3) {
		fprintf(stderr, "usage: rss OUTFILE COMMAND [ARG...]\n");
		return 2;
	}
	start = rss_now();
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "rss: fork: %s\n", strerror(errno));
		return 127;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "rss: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &wstatus, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "rss: wait4: %s\n", strerror(errno));
			return 127;
		}
	}
	wall = rss_now() - start;
	if (WIFEXITED(wstatus))
		status = WEXITSTATUS(wstatus);
	else if (WIFSIGNALED(wstatus))
		status = 128 + WTERMSIG(wstatus);
	else
		status = 127;

	out = fopen(argv[1], "w");
	if (!out) {
		fprintf(stderr, "rss: %s: %s\n", argv[1], strerror(errno));
		return status ? status : 1;
	}
	fprintf(out,
		"wall_s=%.6f user_s=%.6f sys_s=%.6f maxrss_kib=%ld "
		"status=%d\n",
		wall, rss_tv(ru.ru_utime), rss_tv(ru.ru_stime), ru.ru_maxrss,
		status);
	if (fclose(out) != 0) {
		fprintf(stderr, "rss: %s: %s\n", argv[1], strerror(errno));
		return status ? status : 1;
	}
	return status;
}
