// SPDX-License-Identifier: GPL-2.0
/*
 * syn_floor_xdp: the XDP half of syn_floor's XDP mode, a measure of a
 * prober whose replies never reach the network stack.  A SYN-ACK (or a
 * reset) that answers a probe in flight (the map "inflight", filled by
 * syn_floor before each batch, keyed by its addresses and ports, with
 * the acknowledgement expected) is taken here: its result goes to the
 * ring buffer "replies", and a SYN-ACK is turned into the reset the
 * kernel would have sent by viplb's own code (bpf/tcp_reset.h) and sent
 * back with XDP_TX.  Anything else passes.  IPv4 without options only.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "../bpf/tcp_reset.h"
#include "syn_floor.h"

#define FRAME_LEN (sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct tcphdr))

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SYN_FLOOR_INFLIGHT);
	__type(key, struct syn_floor_key);
	__type(value, __be32);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} replies SEC(".maps");

SEC("xdp")
int syn_floor_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct syn_floor_reply *r;
	struct syn_floor_key key;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct tcphdr *th;
	__be32 *ack, seq;
	__u32 synack;

	if (data + FRAME_LEN > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	th = (void *)(ip + 1);
	if (ip->ihl != 5 || ip->protocol != IPPROTO_TCP ||
	    (ip->frag_off & bpf_htons(0x3fff)))
		return XDP_PASS;
	synack = th->syn && th->ack;
	if (!synack && !th->rst)
		return XDP_PASS;
	key.backend = ip->saddr;
	key.local = ip->daddr;
	key.backend_port = th->source;
	key.local_port = th->dest;
	ack = bpf_map_lookup_elem(&inflight, &key);
	if (!ack || *ack != th->ack_seq)
		return XDP_PASS;
	seq = th->ack_seq;
	r = bpf_ringbuf_reserve(&replies, sizeof(*r), 0);
	if (!r)
		return XDP_PASS; /* the stack answers it */
	r->key = key;
	r->synack = synack;
	bpf_ringbuf_submit(r, 0);
	bpf_map_delete_elem(&inflight, &key);
	if (!synack)
		return XDP_DROP;
	return tcp_reset_synack(ctx, sizeof(struct ethhdr), seq) ? XDP_DROP : XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
