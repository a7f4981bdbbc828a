/*
 * fuzz_topo.c: libFuzzer harness for the simulator's edge-list files
 * (weft sim --topology file:PATH): any bytes must parse or be refused
 * with a message naming the file and line, never crash or leak; what
 * parses names only nodes below the count.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim/topo.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	weft_sim_topo_t t;
	weft_err_t err = {0};
	char path[64];
	size_t i;
	int fd = memfd_create("edges", 0), rc;

	if (fd < 0)
		return 0;
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* the first byte picks a fixed node count or "from the file" */
	memset(&t, 0, sizeof(t));
	rc = weft_sim_topo_file(&t, path, size > 0 && data[0] & 1 ? 64 : 0,
				&err);
	if (rc == 0) {
		for (i = 0; i < t.n; i++)
			if (t.e[i].a >= t.nodes || t.e[i].b >= t.nodes)
				abort();
	} else if (strstr(err.msg, path) == NULL) {
		abort(); /* every refusal names the file */
	}
	weft_sim_topo_free(&t);
	close(fd);
	return 0;
}
