/*
 * replay: run one fuzz target's LLVMFuzzerTestOneInput over every file of
 * its corpus (FUZZ_CORPUS, or the directories or files given as
 * arguments), so `make check` exercises each corpus without clang.  Exit
 * 0 when every input returned without crashing.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef SALLYPORT_PREAUTH_PROBE
int __llvm_profile_write_file(void);
void __llvm_profile_reset_counters(void);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
void preauth_proven(void);
/* Set while a target's own channel checks the node (fuzz_nodeenv.c). */
extern int fuzz_own_side __attribute__((weak));
/* Set while every peer proven asked the node's authority (enrolment is
 * pre-auth input: fuzz_nodeenv.c). */
extern int fuzz_past_proof __attribute__((weak));
/* What a target leaves on disk, removed before exiting (or NULL). */
void fuzz_cleanup(void) __attribute__((weak));

/*
 * The peer of this input is proven (src/channel.c, PROVEN): its
 * pre-auth coverage is all there is to count (contrib/scripts/
 * preauth-cov.sh replays one input per process).  Not when the channel
 * proven is the harness's own, verifying the node it drives, nor when
 * the peers proven so far only asked the node's authority (an
 * enrolment's stranger is as unauthenticated after its proof as before).
 */
void
preauth_proven(void)
{

	if (&fuzz_own_side != NULL && fuzz_own_side)
		return;
	if (&fuzz_past_proof != NULL && fuzz_past_proof)
		return;

	(void)__llvm_profile_write_file();
	if (fuzz_cleanup != NULL)
		fuzz_cleanup();
	_exit(0);
}
#endif

static int
replay_file(const char *path)
{
	FILE *f;
	uint8_t *buf;
	long n;

	if ((f = fopen(path, "rb")) == NULL)
		return (-1);
	if (fseek(f, 0, SEEK_END) == -1 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) == -1) {
		fclose(f);
		return (-1);
	}
	if ((buf = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return (-1);
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return (-1);
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return (0);
}

static int
replay_dir(const char *dir, unsigned *count)
{
	DIR *d;
	struct dirent *de;
	char path[4096];

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: cannot open %s\n", dir);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (replay_file(path) == -1) {
			fprintf(stderr, "replay: cannot read %s\n", path);
			closedir(d);
			return (-1);
		}
		(*count)++;
	}
	closedir(d);
	return (0);
}

int
main(int argc, char *argv[])
{
	struct stat st;
	unsigned count = 0;
	int i;

#ifdef SALLYPORT_PREAUTH_PROBE
	/* The target's start-up (keys, templates) is not the input's. */
	if (LLVMFuzzerInitialize != NULL)
		(void)LLVMFuzzerInitialize(&argc, &argv);
	__llvm_profile_reset_counters();
#endif

	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode)) {
				if (replay_file(argv[i]) == -1)
					return (1);
				count++;
			} else if (replay_dir(argv[i], &count) == -1)
				return (1);
		}
	} else if (replay_dir(FUZZ_CORPUS, &count) == -1) {
		return (1);
	}
	printf("%u inputs replayed, 0 crashed\n", count);
	return (count > 0 ? 0 : 1);
}
