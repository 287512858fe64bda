/* SPDX-License-Identifier: GPL-2.0 */
/* What the running kernel and process must offer before BPF is loaded. */
#ifndef PERFAGENT_BPF_ENV_H
#define PERFAGENT_BPF_ENV_H

#include <stdbool.h>
#include <stddef.h>

/* Each check returns 0, or -1 with a one-line explanation (what is wrong and
 * what to do) written into err.
 */
int env_check_privileges(char *err, size_t len);
int env_check_btf(char *err, size_t len);

/* Route libbpf's messages to stderr: warnings only when verbose. */
void env_setup_libbpf(bool verbose);

/* The last libbpf warning seen, to explain a failed load. */
const char *env_last_libbpf_warning(void);

#endif
