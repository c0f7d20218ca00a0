// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Control of the worker threads from the main thread: start and stop,
 * pause and resume around every change of queue state (the worker then
 * follows the new state, see sync_queues() in worker.c), exit hints for
 * the scheduler, and waiting for a stopping queue to drain.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include "dev.h"

int worker_start(struct vub_worker *w)
{
	int err;

	w->ctl_efd = eventfd(0, EFD_CLOEXEC);
	if (w->ctl_efd < 0)
		return -errno;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	err = pthread_create(&w->th, NULL, worker_main, w);
	if (err)
		return -err;
	pthread_mutex_lock(&w->mu);
	while (!w->ready)
		pthread_cond_wait(&w->cv, &w->mu);
	err = w->ring_err;
	pthread_mutex_unlock(&w->mu);
	if (err)
		pthread_join(w->th, NULL);
	return err;
}

void worker_poke(struct vub_worker *w)
{
	uint64_t one = 1;

	if (write(w->ctl_efd, &one, sizeof(one)) < 0)
		log_warn("worker %u: control eventfd", w->id);
}

void worker_stop(struct vub_worker *w)
{
	pthread_mutex_lock(&w->mu);
	__atomic_store_n(&w->exit_req, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	worker_poke(w);
	pthread_join(w->th, NULL);
	close(w->ctl_efd);
}

void worker_pause(struct vub_worker *w)
{
	pthread_mutex_lock(&w->mu);
	__atomic_store_n(&w->pause_req, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&w->mu);
	worker_poke(w);
	pthread_mutex_lock(&w->mu);
	while (!w->paused)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

void worker_resume(struct vub_worker *w)
{
	pthread_mutex_lock(&w->mu);
	__atomic_store_n(&w->pause_req, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void worker_post_exit(struct vub_worker *w, uint64_t proc)
{
	pthread_mutex_lock(&w->mu);
	if (w->n_exits < sizeof(w->exits) / sizeof(w->exits[0]))
		w->exits[w->n_exits++] = proc;
	else
		w->exits_dropped++;
	pthread_mutex_unlock(&w->mu);
	worker_poke(w);
}

bool worker_drain(struct vub_queue *q, int timeout_ms)
{
	struct vub_worker *w = q->w;
	struct timespec until;
	bool ok = true;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (timeout_ms % 1000) * 1000000l;
	if (until.tv_nsec >= 1000000000l) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000l;
	}
	pthread_mutex_lock(&w->mu);
	while (__atomic_load_n(&q->inflight, __ATOMIC_ACQUIRE) && ok)
		ok = pthread_cond_timedwait(&w->cv, &w->mu, &until) == 0 ||
		     !__atomic_load_n(&q->inflight, __ATOMIC_ACQUIRE);
	pthread_mutex_unlock(&w->mu);
	return !__atomic_load_n(&q->inflight, __ATOMIC_ACQUIRE);
}
