/* Test parent for libvgpu-exec.so: runs `child` with an environment that lacks vgpu's entries,
 * through one exec or spawn function. usage: parent MODE CHILD [VAR=value...]
 * The child's environment is exactly the VAR=value arguments (empty when there are none); the
 * modes that use the process environment (execv, execvp, execl, execlp) clear it first. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int wait_child(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) < 0) {
		perror("waitpid");
		return 1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void use_env(char **env)
{
	clearenv();
	for (; *env; env++)
		putenv(*env);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: parent MODE CHILD [VAR=value...]\n");
		return 2;
	}
	const char *mode = argv[1], *child = argv[2];
	char **env = argv + 3; /* NULL-terminated, like argv */
	char *cargv[] = {(char *)child, "arg1", NULL};
	fflush(stdout);
	if (!strcmp(mode, "execve")) {
		execve(child, cargv, env);
	} else if (!strcmp(mode, "execle")) {
		execle(child, child, "arg1", (char *)NULL, env);
	} else if (!strcmp(mode, "execv")) {
		use_env(env);
		execv(child, cargv);
	} else if (!strcmp(mode, "execvp")) {
		use_env(env);
		execvp(child, cargv);
	} else if (!strcmp(mode, "execvpe")) {
		execvpe(child, cargv, env);
	} else if (!strcmp(mode, "execl")) {
		use_env(env);
		execl(child, child, "arg1", (char *)NULL);
	} else if (!strcmp(mode, "execlp")) {
		use_env(env);
		execlp(child, child, "arg1", (char *)NULL);
	} else if (!strcmp(mode, "fexecve")) {
		int fd = open(child, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			perror(child);
			return 1;
		}
		fexecve(fd, cargv, env);
	} else if (!strcmp(mode, "posix_spawn") || !strcmp(mode, "posix_spawnp")) {
		pid_t pid;
		int r = mode[11] == 'p' ? posix_spawnp(&pid, child, NULL, NULL, cargv, env)
					: posix_spawn(&pid, child, NULL, NULL, cargv, env);
		if (r != 0) {
			fprintf(stderr, "%s: %s\n", mode, strerror(r));
			return 1;
		}
		return wait_child(pid);
	} else if (!strcmp(mode, "vfork")) {
		pid_t pid = vfork();
		if (pid == 0) {
			execve(child, cargv, env);
			_exit(127);
		}
		return wait_child(pid);
	} else if (!strcmp(mode, "fork")) {
		pid_t pid = fork();
		if (pid == 0) {
			execve(child, cargv, env);
			_exit(127);
		}
		return wait_child(pid);
	} else {
		fprintf(stderr, "parent: unknown mode %s\n", mode);
		return 2;
	}
	perror(mode);
	return 1;
}
