/*
 * warm: counting and pacing an inlet's warm channels (see warm.h).
 */
#include <assert.h>

#include "warm.h"

void
warm_init(struct warm_pool *p, unsigned want)
{

	assert(want <= WARM_MAX);
	p->want = want;
	p->ready = 0;
	p->making = 0;
	p->fails = 0;
	p->backoff = WARM_BACKOFF_MIN;
	p->next = 0;
}

/* Channels missing: want less those ready or being made (never below 0). */
static unsigned
missing(const struct warm_pool *p)
{

	if (p->ready + p->making >= p->want)
		return (0);
	return (p->want - p->ready - p->making);
}

unsigned
warm_due(const struct warm_pool *p, double now)
{
	unsigned n = missing(p);

	if (n == 0 || now < p->next)
		return (0);
	if (p->fails > 0)
		return (p->making == 0 ? 1 : 0);
	return (n);
}

double
warm_wait(const struct warm_pool *p, double now)
{

	if (warm_due(p, now) > 0)
		return (0);
	if (missing(p) == 0 || now >= p->next)
		return (-1); /* full, or a probe is in flight */
	if (p->fails > 0 && p->making > 0)
		return (-1);
	return (p->next - now);
}

void
warm_started(struct warm_pool *p)
{

	assert(p->ready + p->making < p->want);
	p->making++;
}

int
warm_made(struct warm_pool *p)
{
	int rc = -1;

	assert(p->making > 0);
	p->making--;
	if (p->ready < p->want) {
		p->ready++;
		rc = 0;
	}
	return (rc);
}

/* Count one failure at ${now}: the next attempt waits [b/2, b]. */
/*
 * warm_proved(p):
 * The failures in a row end.
 */
void
warm_proved(struct warm_pool *p)
{

	p->fails = 0;
	p->backoff = WARM_BACKOFF_MIN;
	p->next = 0;
}

static void
back_off(struct warm_pool *p, double now, double draw)
{

	if (draw < 0)
		draw = 0;
	if (draw > 1)
		draw = 1;
	p->fails++;
	p->next = now + p->backoff * (0.5 + 0.5 * draw);
	p->backoff *= 2;
	if (p->backoff > WARM_BACKOFF_MAX)
		p->backoff = WARM_BACKOFF_MAX;
}

void
warm_failed(struct warm_pool *p, double now, double draw)
{

	assert(p->making > 0);
	p->making--;
	back_off(p, now, draw);
}

int
warm_take(struct warm_pool *p)
{

	if (p->ready == 0)
		return (-1);
	p->ready--;
	return (0);
}

void
warm_lost(struct warm_pool *p, double age, double now, double draw)
{

	assert(p->ready > 0);
	p->ready--;
	if (age < WARM_MIN_LIFE)
		back_off(p, now, draw);
}

void
warm_closed(struct warm_pool *p)
{

	assert(p->ready > 0);
	p->ready--;
}

unsigned
warm_resize(struct warm_pool *p, unsigned want)
{

	assert(want <= WARM_MAX);
	p->want = want;
	return (p->ready > want ? p->ready - want : 0);
}
