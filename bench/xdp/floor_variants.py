#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Variants of bpf/viplb.bpf.c for bench/xdp/floor.sh (measurement only).

Usage: floor_variants.py VARIANT < bpf/viplb.bpf.c > variant.bpf.c

  viplb     unchanged
  floor     the work any balancer with a flow table does on the tun v4
            path, and nothing else: parse, one lookup in the flows map
            (viplb's 40-byte key, as Katran's), on a miss an insert;
            then IPIP to a fixed backend, fixed MACs, XDP_TX.  No
            service, ring, route, TTL check, VLAN or counters but the
            path counters that xdp_bench checks (lru_hit, lru_miss).
  floor16   floor with the flows map keyed by 16 bytes (IPv4 only)
  viplb16   viplb with the flows map keyed by 16 bytes (IPv4 only)

The 16-byte variants serve IPv4 only: they measure what a flows map of
its own for IPv4 would save.  Every edit must find its anchor in the
source, else this fails: a variant never silently measures the program
unchanged.
"""
import sys

HIT_ANCHOR = """		svc = pinned_service(&pkt, flow, &be);
		if (svc) {"""

MISS_ANCHOR = """	svc = find_service(&pkt);
	if (!svc) {"""

# IPIP from 192.0.2.1 to 198.51.100.2 and fixed MACs: what every path
# of the floor ends with.
FLOOR_SEND = """
			if (encap_ipip(ctx, &pkt, bpf_htonl(0xc0000201),
				       bpf_htonl(0xc6336402)))
				return aborted();
			eth = (void *)(long)ctx->data;
			if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
				return aborted();
			__builtin_memset(eth, 0x02, 2 * ETH_ALEN);
			return (struct verdict){ .action = XDP_TX };
"""

FLOOR_HIT = """		{
			struct ethhdr *eth;

			if (st)
				st->c[VIPLB_XDP_ST_LRU_HIT]++;""" + FLOOR_SEND + """		}
"""

FLOOR_MISS = """	if (!flow && !probe) {
		struct ethhdr *eth;

		pin.backend = 1;
		pin.gen = 1;
		bpf_map_update_elem(&flows, FLOW_KEY, &pin, BPF_ANY);
		if (st)
			st->c[VIPLB_XDP_ST_LRU_MISS]++;
		{""" + FLOOR_SEND + """		}
	}
"""

KEY16_TYPE = """struct flow4_key {
	__be32 saddr, daddr;
	__be16 sport, dport;
	__u8 proto, af;
	__u16 pad;
};

char LICENSE[]"""

KEY16_MAP = ("""	__type(key, struct viplb_flow_tuple);
	__type(value, struct viplb_xdp_flow);
} flows SEC(".maps");""", """	__type(key, struct flow4_key);
	__type(value, struct viplb_xdp_flow);
} flows SEC(".maps");""")

KEY16_LOOKUP = ("flow = bpf_map_lookup_elem(&flows, &pkt.tuple);",
                """struct flow4_key key16 = {
		.saddr = pkt.tuple.saddr[0], .daddr = pkt.tuple.daddr[0],
		.sport = pkt.tuple.sport, .dport = pkt.tuple.dport,
		.proto = pkt.tuple.proto, .af = pkt.tuple.af,
	};

	flow = bpf_map_lookup_elem(&flows, &key16);""")

KEY16_UPDATE = ("bpf_map_update_elem(&flows, &pkt.tuple, &pin, BPF_ANY);",
                "bpf_map_update_elem(&flows, &key16, &pin, BPF_ANY);")


def replace(src, old, new):
    if src.count(old) != 1:
        sys.exit("floor_variants.py: anchor not found once in the source:\n"
                 + old)
    return src.replace(old, new)


def floor(src, key):
    src = replace(src, HIT_ANCHOR, FLOOR_HIT + HIT_ANCHOR)
    return replace(src, MISS_ANCHOR,
                   FLOOR_MISS.replace("FLOW_KEY", key) + MISS_ANCHOR)


def key16(src):
    src = replace(src, "char LICENSE[]", KEY16_TYPE)
    src = replace(src, *KEY16_MAP)
    src = replace(src, *KEY16_LOOKUP)
    return replace(src, *KEY16_UPDATE)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    src = sys.stdin.read()
    variant = sys.argv[1]
    if variant == "viplb":
        out = src
    elif variant == "floor":
        out = floor(src, "&pkt.tuple")
    elif variant == "floor16":
        out = floor(key16(src), "&key16")
    elif variant == "viplb16":
        out = key16(src)
    else:
        sys.exit("floor_variants.py: unknown variant `%s'" % variant)
    sys.stdout.write(out)


if __name__ == "__main__":
    main()
