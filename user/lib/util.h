/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers every part of user/ uses. */
#ifndef VIPLB_USER_UTIL_H
#define VIPLB_USER_UTIL_H

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* VIPLB_USER_UTIL_H */
