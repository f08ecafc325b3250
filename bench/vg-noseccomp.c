/*
 * vg-noseccomp: stands in for libseccomp when bench/ab.sh runs a node under
 * valgrind, which does not know the seccomp(2) system call (so the node,
 * rightly, refuses to start).  Preloaded only there (LD_PRELOAD), never
 * built by make: the node then runs without its system-call filter, which
 * changes no instruction of the data path.  Not for anything else.
 */
#include <stdint.h>

static int ctx;

void *
seccomp_init(uint32_t def_action)
{
	(void)def_action;
	return (&ctx);
}

int
seccomp_rule_add(void *c, uint32_t action, int nr, unsigned int argc, ...)
{
	(void)c;
	(void)action;
	(void)nr;
	(void)argc;
	return (0);
}

int
seccomp_attr_set(void *c, int attr, uint32_t value)
{
	(void)c;
	(void)attr;
	(void)value;
	return (0);
}

int
seccomp_load(void *c)
{
	(void)c;
	return (0);
}

void
seccomp_release(void *c)
{
	(void)c;
}
