/* CHECK(call) for the test programs here: a driver call that must succeed, else the program
 * (PROG, defined before this file) says which call failed, with its result, and exits 2. */
#include <stdio.h>
#include <stdlib.h>

#define CHECK(call)                                                                   \
	do {                                                                          \
		CUresult r_ = (call);                                                 \
		if (r_ != 0) {                                                        \
			fprintf(stderr, PROG ": %s failed: %d\n", #call, r_);         \
			exit(2);                                                      \
		}                                                                     \
	} while (0)
