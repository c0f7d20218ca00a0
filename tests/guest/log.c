/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Ground-truth logging to the debugcon port, time, power-off, and the few
 * libc pieces a freestanding kernel needs.
 */
#include <stdarg.h>
#include "guest.h"

#define DEBUGCON 0xe9
#define DEBUG_EXIT 0xf4
#define LAPIC 0xfee00000UL

static struct spin log_lock;
static u64 tsc0, tsc_mul;	/* ns = (tsc - tsc0) * tsc_mul >> 32 */

void spin_lock(struct spin *s)
{
	while (__atomic_exchange_n(&s->v, 1, __ATOMIC_ACQUIRE))
		while (s->v)
			cpu_relax();
}

void spin_unlock(struct spin *s)
{
	__atomic_store_n(&s->v, 0, __ATOMIC_RELEASE);
}

/* Whole quadwords where they can: an emulated string instruction costs
 * per iteration, so 8 bytes at a time is 8 times cheaper under kvm_pvm. */
void *memset(void *d, int c, size_t n)
{
	void *r = d;
	u64 q = n / 8, v = (u8)c * 0x0101010101010101ULL;

	if (!(((u64)d | n) & 7))
		__asm__ volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(v) : "memory");
	else
		__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return r;
}

void *memcpy(void *d, const void *s, size_t n)
{
	void *r = d;
	u64 q = n / 8;

	if (!(((u64)d | (u64)s | n) & 7))
		__asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(q) :: "memory");
	else
		__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) :: "memory");
	return r;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (u8)*a - (u8)*b;
}

/* One string instruction per line: a single exit to the VMM under KVM. */
static void con_write(const char *s, size_t n)
{
	__asm__ volatile("rep outsb" : "+S"(s), "+c"(n) : "d"(DEBUGCON) : "memory");
}

struct buf { char *p; size_t n, cap; };

static void put(struct buf *b, char c)
{
	if (b->n < b->cap)
		b->p[b->n++] = c;
}

static void put_num(struct buf *b, u64 v, int base, bool neg)
{
	char tmp[24];
	int i = 0;

	if (neg)
		put(b, '-');
	do {
		tmp[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i)
		put(b, tmp[--i]);
}

static void vformat(struct buf *b, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(b, *fmt);
			continue;
		}
		bool lng = false;
		while (*++fmt == 'l')
			lng = true;
		switch (*fmt) {
		case 'd': {
			long v = lng ? va_arg(ap, long) : va_arg(ap, int);
			put_num(b, v < 0 ? -(u64)v : (u64)v, 10, v < 0);
			break;
		}
		case 'u':
			put_num(b, lng ? va_arg(ap, u64) : va_arg(ap, u32), 10, false);
			break;
		case 'x':
			put_num(b, lng ? va_arg(ap, u64) : va_arg(ap, u32), 16, false);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			while (s && *s)
				put(b, *s++);
			break;
		}
		case 'c':
			put(b, (char)va_arg(ap, int));
			break;
		default:
			put(b, *fmt);
		}
	}
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char line[256];
	struct buf b = { line, 0, sizeof(line) - 1 };

	while (*prefix)
		put(&b, *prefix++);
	vformat(&b, fmt, ap);
	put(&b, '\n');
	spin_lock(&log_lock);
	con_write(line, b.n);
	spin_unlock(&log_lock);
}

void klog(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void poweroff(int code)
{
	outl(DEBUG_EXIT, code);		/* QEMU exits with (code << 1) | 1 */
	for (;;)
		__asm__ volatile("cli; hlt");
}

void panic(const char *fmt, ...)
{
	va_list ap;

	vblk_log_flush();
	klog("AF PANIC t=%lu", now_ns());
	va_start(ap, fmt);
	vlog("AF PANICMSG ", fmt, ap);
	va_end(ap);
	poweroff(3);
}

/*
 * The LAPIC timer counts at 1 GHz with divide-by-1 under both QEMU's and
 * KVM's LAPIC, so 10 ms of it calibrates the TSC.
 */
void time_init(void)
{
	volatile u32 *lapic = (volatile u32 *)LAPIC;
	const u32 span = 10 * 1000 * 1000;

	lapic[0x3e0 / 4] = 0xb;			/* divide by 1 */
	lapic[0x320 / 4] = 1 << 16;		/* masked, one-shot */
	lapic[0x380 / 4] = 0xffffffff;
	u64 t0 = rdtsc();
	while (lapic[0x390 / 4] > 0xffffffff - span)
		cpu_relax();
	u64 t1 = rdtsc();
	lapic[0x380 / 4] = 0;
	tsc0 = t0;
	tsc_mul = ((u64)span << 32) / (t1 - t0 ? t1 - t0 : 1);
}

u64 now_ns(void)
{
	return (u64)(((unsigned __int128)(rdtsc() - tsc0) * tsc_mul) >> 32);
}
