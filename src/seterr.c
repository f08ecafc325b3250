/*
 * seterr: see seterr.h.
 */
#include <stdarg.h>
#include <stdio.h>

#include "seterr.h"

/*
 * seterr(err, errlen, fmt, ...):
 * See seterr.h.
 */
void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
