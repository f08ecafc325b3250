/*
 * fuzz_origdst: what the interception listener does with the original
 * destination the kernel returns (SO_ORIGINAL_DST): arbitrary bytes as a
 * socket address of arbitrary length, matched against the intercept
 * addresses of a fixed configuration (intercept_find) and formatted for
 * the audit line (intercept_format).  A match must be one of the declared
 * addresses; formatting never overruns.
 */
#include <sys/socket.h>

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "intercept.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ini[] =
    "[node]\nidentity = k\nintercept = 127.0.0.1:15001, [::1]:15001\n"
    "[peers]\ndb = I844638b41cfa419657fa04405c09e150f74495d78b724cfb55fa9fc"
    "926032994\n"
    "[inlet pg]\nintercept = 10.20.0.5:5432, [fd00::5]:5432\n"
    "outlet = db@10.0.0.1:7400\n"
    "[inlet web]\nintercept = 10.20.0.6:80\noutlet = db@10.0.0.1:7400\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	static int loaded;
	struct sockaddr_storage ss;
	char err[256], buf[80];
	long i;

	if (!loaded) {
		if (config_parse(&cfg, "fuzz.ini", ini, sizeof(ini) - 1, err,
		    sizeof(err)) != 0)
			abort();
		loaded = 1;
	}
	memset(&ss, 0, sizeof(ss));
	if (size > sizeof(ss))
		size = sizeof(ss);
	memcpy(&ss, data, size);
	i = intercept_find(&cfg, (struct sockaddr *)&ss, (socklen_t)size);
	assert(i >= -1 && i < (long)cfg.ninlets);
	(void)intercept_format((struct sockaddr *)&ss, (socklen_t)size, buf,
	    sizeof(buf));
	assert(strlen(buf) < sizeof(buf));
	return (0);
}
