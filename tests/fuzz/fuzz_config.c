/*
 * fuzz_config: config_parse() over arbitrary INI text.  A successful parse
 * must give a structure whose invariants hold, alike to itself by
 * config_diff() (no call); every failure must name "FILE:LINE:".
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* config_diff's callback: a configuration compared with itself has no
 * change to report. */
static void
no_change(void *arg, const char *kind, const char *name,
    enum config_change what)
{

	(void)arg;
	(void)kind;
	(void)name;
	(void)what;
	assert(0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char err[512];
	size_t i;

	if (config_parse(&cfg, "/fuzz/node.ini", (const char *)data, size, err,
		sizeof(err)) == -1) {
		assert(strncmp(err, "/fuzz/node.ini:", 15) == 0);
		assert(cfg.peers == NULL && cfg.outlets == NULL &&
		    cfg.inlets == NULL);
		return (0);
	}
	assert(cfg.node.identity[0] != '\0');
	for (i = 0; i < cfg.noutlets; i++) {
		assert(cfg.outlets[i].name[0] != '\0');
		assert(cfg.outlets[i].target.salen > 0 ||
		    cfg.outlets[i].target.host[0] != '\0');
		assert(config_outlet_find(&cfg, cfg.outlets[i].name) ==
		    &cfg.outlets[i]);
	}
	for (i = 0; i < cfg.ninlets; i++)
		assert(cfg.inlets[i].service[0] != '\0');
	for (i = 0; i < cfg.npeers; i++)
		assert(config_peer_name(&cfg, cfg.peers[i].id) != NULL);
	config_diff(&cfg, &cfg, no_change, NULL);
	config_free(&cfg);
	return (0);
}
