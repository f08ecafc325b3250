/*
 * seterr: the one way a function reports an error message to its caller:
 * formatted into the caller's buffer, cut to fit.
 */
#ifndef SALLYPORT_SETERR_H
#define SALLYPORT_SETERR_H

#include <stddef.h>

/*
 * seterr(err, errlen, fmt, ...):
 * Format a message into ${err} (${errlen} bytes, cut to fit and always
 * terminated), if there is room for one: ${err} may be NULL or
 * ${errlen} 0, and then nothing is written.
 */
void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* !SALLYPORT_SETERR_H */
