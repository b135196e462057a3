// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_bench's wrapper.  A plain BPF_PROG_TEST_RUN repeat runs a program
 * again and again on one buffer, so a program that rewrites the packet
 * would see its own output from the second iteration on.  viplb_wrap
 * instead writes the original frame back before every iteration, then
 * tail-calls the program measured (target[0]).  Its own cost is measured
 * by tail-calling viplb_floor, which only returns XDP_TX, and subtracted.
 *
 * Every iteration also writes the source port and the last byte of the
 * source address from a counter times @flow_step: with a step of 0 every
 * iteration is the same flow, with 1 a new flow each time (the flows map
 * misses).  The wrapper does the same work either way.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define FRAME_MAX 256

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

/* Set by xdp_bench before each run. */
unsigned char frame[FRAME_MAX];
__u32 frame_len;
__u32 saddr_off;	/* offset of the source address's last byte */
__u32 sport_off;	/* offset of the TCP/UDP source port */
__u32 flow_step;
__u32 flow_seq;

SEC("xdp")
int viplb_wrap(struct xdp_md *ctx)
{
	__u32 len = frame_len, aoff = saddr_off, poff = sport_off, seq;
	long cur = (long)ctx->data_end - (long)ctx->data;
	unsigned char *data, *data_end, *addr, *port;

	if (len < 64 || len > FRAME_MAX)
		return XDP_ABORTED;
	if (cur != len && bpf_xdp_adjust_head(ctx, (int)(cur - len)))
		return XDP_ABORTED;
	if (bpf_xdp_store_bytes(ctx, 0, frame, len))
		return XDP_ABORTED;

	seq = flow_seq;
	flow_seq = seq + flow_step;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (aoff > FRAME_MAX || poff > FRAME_MAX)
		return XDP_ABORTED;
	addr = data + aoff;
	port = data + poff;
	if (addr + 1 > data_end || port + 2 > data_end)
		return XDP_ABORTED;
	/* Ports 32768..65535, then the next address: 8M flows. */
	addr[0] += seq >> 15;
	port[0] = 0x80 | (seq >> 8 & 0x7f);
	port[1] = seq;

	bpf_tail_call(ctx, &target, 0);
	return XDP_ABORTED;
}

/* The wrapper's own cost: tail-called instead of the program measured. */
SEC("xdp")
int viplb_floor(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
