// SPDX-License-Identifier: GPL-2.0
/*
 * viplb: module init and exit.
 */
#include <linux/module.h>
#include <net/genetlink.h>
#include <net/netfilter/nf_nat_masquerade.h>
#include "viplb.h"

static int __init viplb_init(void)
{
	int err;

	/* MASQUERADE (rules, snat services): forget mappings of an address
	 * or device that goes away.
	 */
	err = nf_nat_masquerade_inet_register_notifiers();
	if (err)
		return err;
	err = viplb_pernet_init();
	if (err)
		goto err_pernet;
	err = viplb_genl_init();
	if (err)
		goto err_genl;
	pr_info("version %s loaded (genetlink family \"%s\", UAPI version %d)\n",
		VIPLB_VERSION, VIPLB_GENL_NAME, VIPLB_GENL_VERSION);
	return 0;

err_genl:
	viplb_pernet_exit();
err_pernet:
	nf_nat_masquerade_inet_unregister_notifiers();
	return err;
}

static void __exit viplb_exit(void)
{
	viplb_genl_exit();
	viplb_pernet_exit();
	nf_nat_masquerade_inet_unregister_notifiers();
}

module_init(viplb_init);
module_exit(viplb_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("The viplb authors");
MODULE_DESCRIPTION("viplb: virtual-IP L4 load balancer and NAT toolkit");
MODULE_ALIAS_GENL_FAMILY(VIPLB_GENL_NAME);
MODULE_VERSION(VIPLB_VERSION);
