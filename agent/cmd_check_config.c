// SPDX-License-Identifier: GPL-2.0
/*
 * perfagent check-config FILE [--json] | --print-default: validate a config
 * without running anything, or print the built-in one (every field, ready to
 * copy and edit).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cli.h"
#include "config.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: perfagent check-config FILE [--json]\n"
		"       perfagent check-config --print-default\n"
		"\n"
		"Validate a daemon config without running anything: every mistake is\n"
		"listed by its JSON path (see docs/config.md). Exit status 0 when valid, 1 when not.\n"
		"\n"
		"Options:\n"
		"  --json            print the verdict as JSON: {\"file\", \"valid\", \"errors\",\n"
		"                    \"config\" (the effective config, defaults filled in)}\n"
		"  --print-default   print the built-in config (used when the daemon has no --config)\n"
		"  -h, --help        show this help\n");
}

static int print_default(void)
{
	struct config c;
	char *text;

	if (config_default(&c)) {
		cli_error("out of memory");
		return 1;
	}
	text = config_to_json(&c);
	config_free(&c);
	if (!text) {
		cli_error("out of memory");
		return 1;
	}
	printf("%s\n", text);
	free(text);
	return 0;
}

static int report_json(const char *file, int ret, const struct config *c,
		       const struct config_errors *errs)
{
	cJSON *o = cJSON_CreateObject(), *a, *cfg = NULL;
	char *text = NULL, *ctext = NULL;
	unsigned int i;

	if (!o)
		goto nomem;
	if (!cJSON_AddStringToObject(o, "file", file) ||
	    !cJSON_AddBoolToObject(o, "valid", ret == 0) ||
	    !(a = cJSON_AddArrayToObject(o, "errors")))
		goto nomem;
	for (i = 0; i < errs->n; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(errs->msg[i])))
			goto nomem;
	if (errs->dropped && !cJSON_AddNumberToObject(o, "errors_not_shown", errs->dropped))
		goto nomem;
	if (ret == 0) {
		ctext = config_to_json(c);
		cfg = ctext ? cJSON_Parse(ctext) : NULL;
		if (!cfg || !cJSON_AddItemToObject(o, "config", cfg))
			goto nomem;
		cfg = NULL;
	}
	text = config_pretty_json(o);
	if (!text)
		goto nomem;
	printf("%s\n", text);
	free(text);
	free(ctext);
	cJSON_Delete(o);
	return ret == 0 ? 0 : 1;
nomem:
	cJSON_Delete(cfg);
	free(ctext);
	cJSON_Delete(o);
	cli_error("out of memory");
	return 1;
}

int cmd_check_config(int argc, char **argv)
{
	struct config_errors errs;
	const char *file = NULL;
	struct config c = { 0 };
	char iv[32];
	bool json = false;
	unsigned int i;
	int a, ret;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[a], "--print-default")) {
			return print_default();
		} else if (!strcmp(argv[a], "--json")) {
			json = true;
		} else if (argv[a][0] == '-' && argv[a][1]) {
			cli_error("check-config: unknown option '%s' (see 'perfagent check-config --help')",
				  argv[a]);
			return EXIT_USAGE;
		} else if (file) {
			cli_error("check-config: one FILE only (got '%s' and '%s')", file, argv[a]);
			return EXIT_USAGE;
		} else {
			file = argv[a];
		}
	}
	if (!file) {
		usage(stderr);
		return EXIT_USAGE;
	}
	ret = config_load(file, &c, &errs);
	if (ret == -ENOMEM) {
		cli_error("out of memory");
		return 1;
	}
	if (json) {
		int rc = report_json(file, ret, &c, &errs);

		if (ret == 0)
			config_free(&c);
		return rc;
	}
	if (ret) {
		for (i = 0; i < errs.n; i++)
			cli_error("%s: %s", file, errs.msg[i]);
		if (errs.dropped)
			cli_error("%s: ... and %u more errors", file, errs.dropped);
		return 1;
	}
	printf("%s: valid (interval %s, %zu rules%s)\n", file,
	       config_format_duration(c.interval_ns, iv, sizeof(iv)), c.nrules,
	       c.default_rules ? ", the built-in ones" : "");
	config_free(&c);
	return 0;
}
