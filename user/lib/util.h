/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers every part of user/ uses. */
#ifndef VIPLB_USER_UTIL_H
#define VIPLB_USER_UTIL_H

#include <stdlib.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * grow_array(ARR, NR, CAP, FIRST): room in the array ARR, NR elements of
 * CAP used, for one more: doubles CAP (FIRST the first time).  0, or -1
 * out of memory, with ARR and CAP as they were.
 */
#define grow_array(arr, nr, cap, first)                                    \
	({                                                                 \
		int ret_ = 0;                                              \
		if ((size_t)(nr) >= (size_t)(cap)) {                       \
			size_t n_ = (cap) ? 2 * (size_t)(cap) : (first);   \
			void *p_ = realloc((arr), n_ * sizeof(*(arr)));    \
			if (p_) {                                          \
				(arr) = p_;                                \
				(cap) = n_;                                \
			} else {                                           \
				ret_ = -1;                                 \
			}                                                  \
		}                                                          \
		ret_;                                                      \
	})

#endif /* VIPLB_USER_UTIL_H */
