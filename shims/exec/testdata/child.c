/* Test child for libvgpu-exec.so: prints its whole environment, one variable a line, and its
 * argument count, so the test sees what survived the exec. */
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv)
{
	printf("argc=%d\n", argc);
	for (char **e = environ; *e; e++)
		printf("env %s\n", *e);
	return 0;
}
