/*
 * netbench: the endpoints of bench-portals.sh, compiled by it at run time
 * (cc -O2 -pthread bench/netbench.c).  Not part of the build.
 *
 *   netbench echo PORT            epoll echo server on 127.0.0.1:PORT
 *   netbench connrate PORT SECS C new connections per second: C threads
 *                                 each connect, send 1 byte, read it back,
 *                                 close, for SECS seconds
 *   netbench hold PORT N SECS     open N connections (each checked with a
 *                                 1-byte echo; stop trying after SECS),
 *                                 print "held=N", hold them until SIGTERM
 *   netbench rtt PORT N SIZE      one connection to an echo server: N round
 *                                 trips of SIZE bytes, one at a time (after
 *                                 10 not counted); prints p50 and p99 (us)
 *   netbench sink PORT            on 127.0.0.1:PORT, one connection at a
 *                                 time: read to EOF, answer with the byte
 *                                 count (8 bytes), close
 *   netbench send PORT MIB        send MIB MiB to a sink, half-close, wait
 *                                 for its count: prints Gbit/s, from
 *                                 connect to the count's arrival
 *
 * (bench/ab.sh runs rtt, sink and send.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static struct sockaddr_in
loopback(int p)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)p);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return (sin);
}

/* Connect to the port, send one byte and read it back; the fd or -1. */
static int
dial_echo(void)
{
	struct sockaddr_in sin = loopback(port);
	struct timeval tv = {10, 0};
	char c = 'x';
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (-1);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1 || c != 'x') {
		close(fd);
		return (-1);
	}
	return (fd);
}

static int
echo_main(void)
{
	struct sockaddr_in sin = loopback(port);
	struct epoll_event ev, evs[256];
	char buf[65536];
	int ls, ep, one = 1;

	raise_nofile();
	if ((ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(ls, 4096) || (ep = epoll_create1(0)) == -1) {
		perror("netbench echo");
		return (1);
	}
	ev.events = EPOLLIN;
	ev.data.fd = ls;
	(void)epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			ssize_t r;

			if (fd == ls) {
				int c;

				while ((c = accept4(ls, NULL, NULL,
				    SOCK_NONBLOCK)) != -1) {
					(void)setsockopt(c, IPPROTO_TCP,
					    TCP_NODELAY, &one, sizeof(one));
					ev.events = EPOLLIN;
					ev.data.fd = c;
					(void)epoll_ctl(ep, EPOLL_CTL_ADD, c,
					    &ev);
				}
				continue;
			}
			/* Echo what came; tiny payloads, so a short write
			 * only happens on a broken peer: then drop it. */
			r = read(fd, buf, sizeof(buf));
			if (r > 0 && write(fd, buf, (size_t)r) == r)
				continue;
			if (r == -1 && errno == EAGAIN)
				continue;
			close(fd);
		}
	}
}

static double deadline;
static atomic_long nconn, nerr;

static void *
connrate_thread(void *arg)
{
	(void)arg;
	while (now() < deadline) {
		int fd = dial_echo();

		if (fd == -1) {
			atomic_fetch_add(&nerr, 1);
			continue;
		}
		close(fd);
		atomic_fetch_add(&nconn, 1);
	}
	return (NULL);
}

static int
connrate_main(double secs, int conc)
{
	pthread_t t[256];
	double t0 = now();

	if (conc < 1 || conc > 256)
		return (2);
	deadline = t0 + secs;
	for (int i = 0; i < conc; i++)
		pthread_create(&t[i], NULL, connrate_thread, NULL);
	for (int i = 0; i < conc; i++)
		pthread_join(t[i], NULL);
	printf("conns_per_s=%.0f conns=%ld errors=%ld\n",
	    (double)atomic_load(&nconn) / (now() - t0), atomic_load(&nconn),
	    atomic_load(&nerr));
	return (0);
}

/* Read exactly ${n} bytes; 0, or -1 on error or EOF. */
static int
read_full(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r <= 0)
			return (-1);
		p += r;
		n -= (size_t)r;
	}
	return (0);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}

/*
 * Time to first byte of ${n} new connections, one after the other (with
 * ${gap_us} microseconds between them: a client's think time): from
 * connect(2) to the 1-byte echo read (dial_echo), microseconds; prints
 * p50 and p99.
 */
static int
ttfb_main(long n, long gap_us)
{
	double *t;
	int fd;

	if (n < 1 || (t = calloc((size_t)n, sizeof(*t))) == NULL)
		return (2);
	for (long i = 0; i < n; i++) {
		double t0 = now();

		if ((fd = dial_echo()) == -1) {
			fprintf(stderr, "netbench ttfb: connection failed\n");
			return (1);
		}
		t[i] = (now() - t0) * 1e6;
		close(fd);
		if (gap_us > 0)
			usleep((useconds_t)gap_us);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	printf("ttfb_p50_us=%.0f ttfb_p99_us=%.0f n=%ld\n", t[n / 2],
	    t[n * 99 / 100], n);
	free(t);
	return (0);
}

#define RTT_WARMUP 10

static int
rtt_main(long n, size_t size)
{
	uint8_t out[65536], in[65536];
	double *t;
	int fd;

	if (n < 1 || size < 1 || size > sizeof(out) ||
	    (t = calloc((size_t)n, sizeof(*t))) == NULL)
		return (2);
	memset(out, 'r', size);
	for (int i = 0; i < 200; i++) {	/* up to 10 s for the listener */
		if ((fd = dial_echo()) != -1)
			break;
		usleep(50000);
	}
	if (fd == -1) {
		fprintf(stderr, "netbench rtt: no echo on port %d\n", port);
		return (1);
	}
	for (long i = -RTT_WARMUP; i < n; i++) {
		double t0 = now();

		if (write(fd, out, size) != (ssize_t)size ||
		    read_full(fd, in, size) == -1 || memcmp(in, out, size)) {
			fprintf(stderr, "netbench rtt: echo failed\n");
			return (1);
		}
		if (i >= 0)
			t[i] = now() - t0;
	}
	close(fd);
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	printf("rtt_p50_us=%.1f rtt_p99_us=%.1f n=%ld size=%zu\n",
	    t[n / 2] * 1e6, t[(n * 99) / 100] * 1e6, n, size);
	free(t);
	return (0);
}

static int
sink_main(void)
{
	struct sockaddr_in sin = loopback(port);
	static uint8_t buf[1 << 18];
	int ls, one = 1;

	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&sin, sizeof(sin)) || listen(ls, 64)) {
		perror("netbench sink");
		return (1);
	}
	for (;;) {
		uint64_t total = 0;
		ssize_t r;
		int c;

		if ((c = accept(ls, NULL, NULL)) == -1)
			continue;
		while ((r = read(c, buf, sizeof(buf))) > 0)
			total += (uint64_t)r;
		if (r == 0)
			(void)write(c, &total, sizeof(total));
		close(c);
	}
}

static int
send_main(long mib)
{
	struct sockaddr_in sin = loopback(port);
	static uint8_t buf[1 << 16];
	uint64_t want = (uint64_t)mib << 20, got;
	double t0;
	int fd;

	if (mib < 1 || (fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (2);
	memset(buf, 's', sizeof(buf));
	t0 = now();
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		perror("netbench send");
		return (1);
	}
	for (uint64_t left = want; left > 0;) {
		size_t k = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		ssize_t w = write(fd, buf, k);

		if (w <= 0) {
			perror("netbench send");
			return (1);
		}
		left -= (uint64_t)w;
	}
	if (shutdown(fd, SHUT_WR) == -1 ||
	    read_full(fd, (uint8_t *)&got, sizeof(got)) == -1 || got != want) {
		fprintf(stderr, "netbench send: the sink did not count %llu "
		    "bytes\n", (unsigned long long)want);
		return (1);
	}
	printf("gbit_per_s=%.3f bytes=%llu secs=%.3f\n",
	    (double)want * 8 / 1e9 / (now() - t0), (unsigned long long)want,
	    now() - t0);
	close(fd);
	return (0);
}

static atomic_long held;
static long hold_total;

static void *
hold_thread(void *arg)
{
	long k = (long)(intptr_t)arg;
	long each = hold_total / 8 + (k < hold_total % 8);

	for (long i = 0; i < each && now() < deadline; i++) {
		if (dial_echo() == -1)
			atomic_fetch_add(&nerr, 1);
		else
			atomic_fetch_add(&held, 1);
	}
	return (NULL);
}

static int
hold_main(long n, double secs)
{
	pthread_t t[8];
	sigset_t set;
	int sig;

	raise_nofile();
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	hold_total = n;
	deadline = now() + secs;
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, hold_thread, (void *)(intptr_t)i);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	printf("held=%ld errors=%ld\n", atomic_load(&held), atomic_load(&nerr));
	fflush(stdout);
	sigwait(&set, &sig);
	return (0);
}

int
main(int argc, char *argv[])
{

	if (argc >= 3)
		port = atoi(argv[2]);
	if (argc == 3 && strcmp(argv[1], "echo") == 0)
		return (echo_main());
	if (argc == 5 && strcmp(argv[1], "connrate") == 0)
		return (connrate_main(atof(argv[3]), atoi(argv[4])));
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "ttfb") == 0)
		return (ttfb_main(atol(argv[3]), argc == 5 ? atol(argv[4]) : 0));
	if (argc == 5 && strcmp(argv[1], "hold") == 0)
		return (hold_main(atol(argv[3]), atof(argv[4])));
	if (argc == 5 && strcmp(argv[1], "rtt") == 0)
		return (rtt_main(atol(argv[3]), (size_t)atol(argv[4])));
	if (argc == 3 && strcmp(argv[1], "sink") == 0)
		return (sink_main());
	if (argc == 4 && strcmp(argv[1], "send") == 0)
		return (send_main(atol(argv[3])));
	fprintf(stderr, "usage: netbench echo PORT | connrate PORT SECS C | "
	    "ttfb PORT N [GAP_US] | hold PORT N SECS | rtt PORT N SIZE | sink PORT | "
	    "send PORT MIB\n");
	return (2);
}
