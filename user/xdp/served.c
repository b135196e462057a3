// SPDX-License-Identifier: GPL-2.0
/* Who serves a service: XDP, the module or nothing (see xdp.h). */
#include <linux/viplb.h>

#include "xdp.h"

bool xdp_serves(const struct lb_service *svc)
{
	if (svc->mode != VIPLB_MODE_DR && svc->mode != VIPLB_MODE_TUN)
		return false;
	switch (svc->sched) {
	case VIPLB_SCHED_MAGLEV:
	case VIPLB_SCHED_SH:
	case VIPLB_SCHED_RR:
	case VIPLB_SCHED_WRR:
		return true;
	}
	return false;
}

const char *(*xdp_passed_to)(const struct lb_service *svc);

const char *xdp_served_by(const struct lb_service *svc, bool module, bool xdp)
{
	if (xdp && xdp_serves(svc))
		return "xdp";
	if (module)
		return "module";
	return xdp_passed_to ? xdp_passed_to(svc) : "none";
}
