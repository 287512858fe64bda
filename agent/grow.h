/* SPDX-License-Identifier: GPL-2.0 */
/* Growing arrays: capacity doubles, so appending stays amortised O(1). */
#ifndef PERFAGENT_GROW_H
#define PERFAGENT_GROW_H

#include <stdlib.h>

/* arr (capacity *cap elements of size bytes) with room for need: arr
 * itself, moved, or NULL when out of memory (arr is then unchanged).
 */
static inline void *grow(void *arr, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return arr;
	while (n < need)
		n *= 2;
	q = realloc(arr, n * size);
	if (q)
		*cap = n;
	return q;
}

#endif
