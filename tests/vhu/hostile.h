/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* test-hostile: descriptor cases (test_hostile.c), message cases (hostile_msg.c). */
#ifndef ANTFARM_VHU_HOSTILE_H
#define ANTFARM_VHU_HOSTILE_H

#include "testlib.h"

extern struct vhu_backend hostile_be;
void run_msg_cases(void);
void hostile_ensure_backend(void);
void run_fuzz_cases(void);

#endif
