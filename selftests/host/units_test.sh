#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The commands of viplb.service (systemd/viplb.service.in, as make install
# makes it) on this host, where the module cannot be loaded: the services
# go to nf_tables, the XDP attachments of xdp.conf are made.  The checks
# are units_viplb_service of selftests/units.sh: a good viplb.conf and
# xdp.conf load; a broken viplb.conf, or a broken xdp.conf, fails with
# its line and leaves nothing loaded; reload swaps a changed file in under
# traffic with no connection lost, and a broken one keeps the running
# configuration.  The units' /etc/viplb/ is a directory under /tmp here
# (the host's /etc is not touched); dkms_units.sh runs the same in the VM
# on the module, with the real /etc/viplb/.
#
#   client $LB_C --- director $LB_D (nf_tables, XDP generic on c0) --- $LB_B1..3

# Pid 1 of a pid and mount namespace of our own: see xdp_ns.sh.
. "$(dirname "$0")/xdp_ns.sh"

# lib.sh looks for the CLI beside selftests/; this test is one level down.
: "${VIPLB:=$(cd "$(dirname "$0")/../.." && pwd -P)/user/viplb/viplb}"
. "$(dirname "$0")/../lib.sh"
VIPLB_ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
. "$(dirname "$0")/../units.sh"

require_root
lb_need_cmd ip nft python3 socat sed
xdp_ns_check
if [ -e /sys/module/viplb ]; then
	skip_all "the module is loaded: this test is for nf_tables"
fi

lb_topo
lb_servers
defer "\"$VIPLB\" -n $LB_D xdp detach c0"
units_install "$VIPLB_TMP/lib" "$VIPLB_TMP/etc" ||
	bail "the units, as make install makes them"
units_viplb_service
viplb_finish
