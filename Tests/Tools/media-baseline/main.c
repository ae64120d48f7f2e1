// The independent programs of `outpost bench media`, in C so that a baseline is not the relay
// minus a layer:
//
//   media-baseline srtp-loop SUITE SECONDS [reencrypt|protect|unprotect]
//       libsrtp alone on one thread (pinned to CPU 0, like the relay): per packet, copy a 172-byte
//       RTP packet (12 header + 160 PCMU) protected with key A into a work buffer, unprotect it
//       with key A and protect it with key B (or only one of the two). Sequence numbers increase.
//       Prints "packets N cpu S per-second R" (packets ÷ the thread's CPU seconds).
//   media-baseline recv-send FIRST_PORT PAIRS DEST_PORT [mmsg|single]
//       A bare UDP forwarding loop on one thread pinned to CPU 0: PAIRS socket pairs on 127.0.0.1
//       (in on FIRST_PORT+2i, out on FIRST_PORT+2i+1), epoll, then recvmmsg/sendmmsg in batches
//       of 32 (mmsg) or recvfrom/sendto per packet (single), every packet sent to DEST_PORT from
//       the pair's out socket, as the relay sends from the other leg's socket. Prints "ready";
//       reads "start" and "stop" on standard input and prints the packets forwarded between
//       them ÷ its own CPU seconds.
//   media-baseline load [CPU [WINDOW]]
//       The load generator (pinned to CPU, default 1): one socket sends, another receives.
//       Prints "ports SEND RECEIVE"; reads "call PORT INSUITE INKEY OUTSUITE OUTKEY" lines (suite
//       aes-cm-80, aes-gcm-128 or plain, key hex master key||salt or -), then "run" (send to every
//       call round robin as fast as a window of packets in flight allows, until "stop") or
//       "burst N" (N packets per call, then wait for them). Each call's packets carry their own
//       SSRC; the packets that come back are counted, and a sample of them (the first 4 of each
//       call, then 1 in 1,024) is unprotected with OUTKEY and its payload compared with what was
//       sent, which proves the relay decrypted and re-encrypted with the key it announced.
//       Prints "done sent N received N verified N failed N".
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <srtp2/srtp.h>

#include "outpost_srtp.h"

enum { HEADER = 12, PAYLOAD = 160, PACKET = HEADER + PAYLOAD, ROOM = 256, BATCH = 32 };

static void die(const char *what) {
    fprintf(stderr, "media-baseline: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
}

static double thread_cpu(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double wall(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

// MARK: SRTP

typedef enum { SUITE_PLAIN, SUITE_AES_CM_80, SUITE_AES_GCM_128 } suite_t;

static suite_t parse_suite(const char *name) {
    if (strcmp(name, "plain") == 0) return SUITE_PLAIN;
    if (strcmp(name, "aes-cm-80") == 0) return SUITE_AES_CM_80;
    if (strcmp(name, "aes-gcm-128") == 0) return SUITE_AES_GCM_128;
    fprintf(stderr, "media-baseline: unknown suite %s\n", name);
    exit(2);
}

static int key_length(suite_t suite) { return suite == SUITE_AES_GCM_128 ? SRTP_AES_GCM_128_KEY_LEN_WSALT : SRTP_AES_ICM_128_KEY_LEN_WSALT; }

static srtp_t session(suite_t suite, const uint8_t *key, int outbound) {
    srtp_policy_t policy;
    memset(&policy, 0, sizeof policy);
    if (suite == SUITE_AES_GCM_128) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    } else {
        srtp_crypto_policy_set_rtp_default(&policy.rtp);
        srtp_crypto_policy_set_rtp_default(&policy.rtcp);
    }
    policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    policy.key = (unsigned char *)key;
    policy.window_size = 1024;  // the relay's default replay window
    srtp_t created = NULL;
    srtp_err_status_t status = srtp_create(&created, &policy);
    if (status != srtp_err_status_ok) {
        fprintf(stderr, "media-baseline: srtp_create: %d\n", status);
        exit(1);
    }
    return created;
}

static void random_key(uint8_t *key, int length) {
    FILE *random = fopen("/dev/urandom", "rb");
    if (!random || fread(key, 1, length, random) != (size_t)length) die("/dev/urandom");
    fclose(random);
}

static int parse_hex(const char *hex, uint8_t *out, int length) {
    if ((int)strlen(hex) != 2 * length) return -1;
    for (int i = 0; i < length; i++) {
        unsigned value;
        if (sscanf(hex + 2 * i, "%2x", &value) != 1) return -1;
        out[i] = (uint8_t)value;
    }
    return 0;
}

static void write_rtp(uint8_t *packet, uint32_t ssrc, uint16_t sequence, uint32_t timestamp, uint8_t pattern) {
    packet[0] = 0x80;
    packet[1] = 0;  // PCMU
    packet[2] = sequence >> 8;
    packet[3] = sequence & 0xFF;
    packet[4] = timestamp >> 24;
    packet[5] = (timestamp >> 16) & 0xFF;
    packet[6] = (timestamp >> 8) & 0xFF;
    packet[7] = timestamp & 0xFF;
    packet[8] = ssrc >> 24;
    packet[9] = (ssrc >> 16) & 0xFF;
    packet[10] = (ssrc >> 8) & 0xFF;
    packet[11] = ssrc & 0xFF;
    for (int i = 0; i < PAYLOAD; i++) packet[HEADER + i] = (uint8_t)(i * 7 + pattern);
}

// MARK: srtp-loop

static int srtp_loop(suite_t suite, double seconds, const char *operation) {
    int reencrypt = strcmp(operation, "reencrypt") == 0, protect_only = strcmp(operation, "protect") == 0;
    if (!reencrypt && !protect_only && strcmp(operation, "unprotect") != 0) {
        fprintf(stderr, "media-baseline: unknown operation %s\n", operation);
        return 2;
    }
    pin(0);
    // Packets protected with key A are made ahead; every round gets fresh sessions (outside the
    // measured time), so the same packets pass the replay check again and key B never protects
    // an index twice.
    enum { PACKETS = 2048 };
    static uint8_t plain[PACKETS][ROOM], protected[PACKETS][ROOM];
    static int protected_length[PACKETS];
    uint8_t key_a[64], key_b[64];
    random_key(key_a, key_length(suite));
    random_key(key_b, key_length(suite));
    srtp_t sender = session(suite, key_a, 1);
    for (int i = 0; i < PACKETS; i++) {
        write_rtp(plain[i], 0x12345678, (uint16_t)(1000 + i), 160u * i, 0);
        memcpy(protected[i], plain[i], PACKET);
        protected_length[i] = PACKET;
        if (srtp_protect(sender, protected[i], &protected_length[i]) != srtp_err_status_ok) {
            fprintf(stderr, "media-baseline: protect failed\n");
            return 1;
        }
    }
    srtp_dealloc(sender);
    uint8_t work[ROOM];
    long packets = 0, failures = 0;
    double cpu = 0;
    unsigned checksum = 0;
    while (cpu < seconds) {
        srtp_t inbound = session(suite, key_a, 0), outbound = session(suite, key_b, 1);
        double start = thread_cpu();
        for (int i = 0; i < PACKETS; i++) {
            int length;
            if (protect_only) {
                memcpy(work, plain[i], PACKET);
                length = PACKET;
                failures += srtp_protect(outbound, work, &length) != srtp_err_status_ok;
            } else {
                memcpy(work, protected[i], protected_length[i]);
                length = protected_length[i];
                failures += srtp_unprotect(inbound, work, &length) != srtp_err_status_ok;
                if (reencrypt) failures += srtp_protect(outbound, work, &length) != srtp_err_status_ok;
            }
            checksum += work[length - 1];
        }
        cpu += thread_cpu() - start;
        packets += PACKETS;
        srtp_dealloc(inbound);
        srtp_dealloc(outbound);
    }
    if (failures) {
        fprintf(stderr, "media-baseline: %ld libsrtp failures\n", failures);
        return 1;
    }
    printf("packets %ld cpu %.6f per-second %.0f checksum %u\n", packets, cpu, packets / cpu, checksum);
    return 0;
}

// MARK: sockets

static int udp_socket(int port, int buffer) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket");
    // As root the force variants pass net.core.[rw]mem_max; otherwise the capped request stands.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer) != 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) die("bind");
    return fd;
}

static int local_port(int fd) {
    struct sockaddr_in address;
    socklen_t length = sizeof address;
    if (getsockname(fd, (struct sockaddr *)&address, &length) != 0) die("getsockname");
    return ntohs(address.sin_port);
}

static int read_line(char *line, size_t size) {
    if (!fgets(line, (int)size, stdin)) return -1;
    line[strcspn(line, "\n")] = 0;
    return 0;
}

// MARK: recv-send

static int recv_send(int first_port, int pairs, int dest_port, int use_mmsg) {
    pin(0);
    int *in = calloc(pairs, sizeof(int)), *out = calloc(pairs, sizeof(int));
    int poller = epoll_create1(0);
    if (poller < 0) die("epoll_create1");
    for (int i = 0; i < pairs; i++) {
        // The relay's sockets keep the kernel's default buffers; so do these.
        in[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        out[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(first_port + 2 * i), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        struct sockaddr_in b = {.sin_family = AF_INET, .sin_port = htons(first_port + 2 * i + 1), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (in[i] < 0 || out[i] < 0 || bind(in[i], (struct sockaddr *)&a, sizeof a) || bind(out[i], (struct sockaddr *)&b, sizeof b))
            die("bind pair");
        struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(poller, EPOLL_CTL_ADD, in[i], &event) != 0) die("epoll_ctl");
    }
    struct epoll_event control = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    if (epoll_ctl(poller, EPOLL_CTL_ADD, 0, &control) != 0) die("epoll_ctl stdin");
    struct sockaddr_in dest = {.sin_family = AF_INET, .sin_port = htons(dest_port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    static uint8_t buffers[BATCH][2048];
    struct mmsghdr messages[BATCH];
    struct iovec vectors[BATCH];
    struct sockaddr_in sources[BATCH];
    printf("ready\n");
    fflush(stdout);
    long forwarded = 0, at_start = 0;
    double cpu_start = 0, wall_start = 0;
    int running = 1;
    while (running) {
        struct epoll_event events[64];
        int ready = epoll_wait(poller, events, 64, -1);
        if (ready < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int e = 0; e < ready; e++) {
            uint32_t index = events[e].data.u32;
            if (index == UINT32_MAX) {
                char line[64];
                if (read_line(line, sizeof line) != 0 || strcmp(line, "stop") == 0) {
                    running = 0;
                } else if (strcmp(line, "start") == 0) {
                    at_start = forwarded;
                    cpu_start = thread_cpu();
                    wall_start = wall();
                }
                continue;
            }
            if (use_mmsg) {
                for (int i = 0; i < BATCH; i++) {
                    vectors[i] = (struct iovec){.iov_base = buffers[i], .iov_len = sizeof buffers[i]};
                    messages[i].msg_hdr = (struct msghdr){.msg_name = &sources[i], .msg_namelen = sizeof sources[i], .msg_iov = &vectors[i], .msg_iovlen = 1};
                }
                int received = recvmmsg(in[index], messages, BATCH, MSG_DONTWAIT, NULL);
                if (received <= 0) continue;
                for (int i = 0; i < received; i++) {
                    vectors[i].iov_len = messages[i].msg_len;
                    messages[i].msg_hdr.msg_name = &dest;
                    messages[i].msg_hdr.msg_namelen = sizeof dest;
                }
                int sent = sendmmsg(out[index], messages, received, 0);
                if (sent > 0) forwarded += sent;
            } else {
                for (int i = 0; i < BATCH; i++) {
                    socklen_t length = sizeof sources[0];
                    ssize_t n = recvfrom(in[index], buffers[0], sizeof buffers[0], MSG_DONTWAIT, (struct sockaddr *)&sources[0], &length);
                    if (n <= 0) break;
                    if (sendto(out[index], buffers[0], n, 0, (struct sockaddr *)&dest, sizeof dest) == n) forwarded++;
                }
            }
        }
    }
    double cpu = thread_cpu() - cpu_start, elapsed = wall() - wall_start;
    long packets = forwarded - at_start;
    printf("packets %ld cpu %.6f per-second %.0f wall %.6f\n", packets, cpu, cpu > 0 ? packets / cpu : 0, elapsed);
    return 0;
}

// MARK: load

typedef struct {
    struct sockaddr_in target;
    suite_t in_suite, out_suite;
    srtp_t protector;  // leg 0's inbound key: what the peer of leg 0 sends with
    srtp_t verifier;   // leg 1's outbound key: what the relay says it sends with
    uint16_t sequence;
    uint32_t timestamp;
    uint32_t ssrc;
    long received;
} call_t;

enum { SSRC_BASE = 0x5A000000, MAX_CALLS = 4096 };

static int load(int cpu, long window) {
    pin(cpu);
    int sender = udp_socket(0, 8 << 20), receiver = udp_socket(0, 8 << 20);
    printf("ports %d %d\n", local_port(sender), local_port(receiver));
    fflush(stdout);
    static call_t calls[MAX_CALLS];
    int count = 0;
    char line[512];
    long burst = 0;
    for (;;) {
        if (read_line(line, sizeof line) != 0) return 0;
        if (strcmp(line, "run") == 0) break;
        if (sscanf(line, "burst %ld", &burst) == 1) break;
        char in_suite[32], in_key[160], out_suite[32], out_key[160];
        int port;
        if (sscanf(line, "call %d %31s %159s %31s %159s", &port, in_suite, in_key, out_suite, out_key) != 5 || count == MAX_CALLS) {
            fprintf(stderr, "media-baseline: bad line '%s'\n", line);
            return 2;
        }
        call_t *call = &calls[count];
        call->target = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        call->in_suite = parse_suite(in_suite);
        call->out_suite = parse_suite(out_suite);
        uint8_t key[64];
        if (call->in_suite != SUITE_PLAIN) {
            if (parse_hex(in_key, key, key_length(call->in_suite)) != 0) return 2;
            call->protector = session(call->in_suite, key, 1);
        }
        if (call->out_suite != SUITE_PLAIN) {
            if (parse_hex(out_key, key, key_length(call->out_suite)) != 0) return 2;
            call->verifier = session(call->out_suite, key, 0);
        }
        call->ssrc = SSRC_BASE + count;
        call->sequence = 1;
        count++;
    }
    if (count == 0) return 2;
    static uint8_t out_buffers[BATCH][ROOM], in_buffers[BATCH][2048];
    struct mmsghdr out_messages[BATCH], in_messages[BATCH];
    struct iovec out_vectors[BATCH], in_vectors[BATCH];
    long sent = 0, received = 0, verified = 0, failed = 0, forgiven = 0, sampled = 0;
    int next = 0, pending = 0, announced = 0, stopping = 0;
    double stalled_since = 0, stop_at = 0;
    long budget = burst > 0 ? burst * count : -1;
    for (long iteration = 0;; iteration++) {
        // Sends a batch while the window has room.
        if (!stopping && pending == 0 && sent - received - forgiven < window && budget != 0) {
            int n = BATCH;
            if (budget > 0 && budget < n) n = (int)budget;
            for (int i = 0; i < n; i++) {
                call_t *call = &calls[next];
                next = next + 1 == count ? 0 : next + 1;
                write_rtp(out_buffers[i], call->ssrc, call->sequence++, call->timestamp, (uint8_t)call->ssrc);
                call->timestamp += 160;
                int length = PACKET;
                if (call->protector && srtp_protect(call->protector, out_buffers[i], &length) != srtp_err_status_ok) {
                    fprintf(stderr, "media-baseline: protect failed\n");
                    return 1;
                }
                out_vectors[i] = (struct iovec){.iov_base = out_buffers[i], .iov_len = length};
                out_messages[i].msg_hdr = (struct msghdr){.msg_name = &call->target, .msg_namelen = sizeof call->target, .msg_iov = &out_vectors[i], .msg_iovlen = 1};
            }
            pending = n;
        }
        if (pending > 0) {
            int done = sendmmsg(sender, out_messages, pending, MSG_DONTWAIT);
            if (done > 0) {
                // Rare partial sends move the rest forward.
                memmove(out_messages, out_messages + done, (pending - done) * sizeof out_messages[0]);
                sent += done;
                if (budget > 0) budget -= done;
                pending -= done;
                if (!announced) {
                    printf("started\n");
                    fflush(stdout);
                    announced = 1;
                }
            }
        }
        // Counts what came back, verifying a sample.
        for (int i = 0; i < BATCH; i++) {
            in_vectors[i] = (struct iovec){.iov_base = in_buffers[i], .iov_len = sizeof in_buffers[i]};
            in_messages[i].msg_hdr = (struct msghdr){.msg_iov = &in_vectors[i], .msg_iovlen = 1};
        }
        int got = recvmmsg(receiver, in_messages, BATCH, MSG_DONTWAIT, NULL);
        if (got > 0) {
            received += got;
            stalled_since = 0;
            for (int i = 0; i < got; i++) {
                uint8_t *packet = in_buffers[i];
                int length = (int)in_messages[i].msg_len;
                if (length < HEADER) {
                    failed++;
                    continue;
                }
                uint32_t ssrc = (uint32_t)packet[8] << 24 | (uint32_t)packet[9] << 16 | (uint32_t)packet[10] << 8 | packet[11];
                if (ssrc - SSRC_BASE >= (uint32_t)count) {
                    failed++;
                    continue;
                }
                call_t *call = &calls[ssrc - SSRC_BASE];
                call->received++;
                if (call->received > 4 && (++sampled & 1023) != 0) continue;
                if (call->verifier && srtp_unprotect(call->verifier, packet, &length) != srtp_err_status_ok) {
                    failed++;
                    continue;
                }
                int good = length == PACKET;
                for (int j = 0; good && j < PAYLOAD; j++) good = packet[HEADER + j] == (uint8_t)(j * 7 + (uint8_t)ssrc);
                if (good) verified++; else failed++;
            }
        } else if (!stopping && sent - received - forgiven >= window) {
            // Window full and nothing back: what is in flight was dropped; forgive it after 2 ms.
            double now = wall();
            if (stalled_since == 0) stalled_since = now;
            else if (now - stalled_since > 0.002) {
                forgiven = sent - received;
                stalled_since = 0;
            }
        }
        if (budget == 0 && !stopping) {
            if (received >= sent) break;
            stopping = 1;
            stop_at = wall() + 2;
        }
        if ((iteration & 255) == 0 && !stopping && burst == 0) {
            struct pollfd control = {.fd = 0, .events = POLLIN};
            if (poll(&control, 1, 0) > 0) {
                if (read_line(line, sizeof line) != 0 || strcmp(line, "stop") == 0) {
                    stopping = 1;
                    stop_at = wall() + 0.1;
                }
            }
        }
        if (stopping && (received >= sent || wall() > stop_at)) break;
    }
    printf("done sent %ld received %ld verified %ld failed %ld\n", sent, received, verified, failed);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv) {
    if (srtp_init() != srtp_err_status_ok) {
        fprintf(stderr, "media-baseline: srtp_init failed\n");
        return 1;
    }
    setvbuf(stdin, NULL, _IONBF, 0);
    if (argc >= 4 && strcmp(argv[1], "srtp-loop") == 0) {
        // "openssl": libsrtp with the OpenSSL primitives the edge installs, measured beside libsrtp as built.
        if (argc > 5 && strcmp(argv[5], "openssl") == 0 && outpost_srtp_use_openssl_primitives() != 0) {
            fprintf(stderr, "media-baseline: libsrtp refused the OpenSSL primitives\n");
            return 1;
        }
        return srtp_loop(parse_suite(argv[2]), atof(argv[3]), argc > 4 ? argv[4] : "reencrypt");
    }
    if (argc >= 5 && strcmp(argv[1], "recv-send") == 0)
        return recv_send(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), !(argc > 5 && strcmp(argv[5], "single") == 0));
    if (argc >= 2 && strcmp(argv[1], "load") == 0) return load(argc > 2 ? atoi(argv[2]) : 1, argc > 3 ? atol(argv[3]) : 1024);
    fprintf(stderr,
            "usage: media-baseline srtp-loop SUITE SECONDS [reencrypt|protect|unprotect]\n"
            "       media-baseline recv-send FIRST_PORT PAIRS DEST_PORT [mmsg|single]\n"
            "       media-baseline load [CPU [WINDOW]]\n");
    return 2;
}
