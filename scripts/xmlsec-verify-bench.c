/*
 * xmlsec-verify-bench: the verify rate of libxmlsec1 (Debian's, with the
 * OpenSSL engine), the independent C implementation of XML-DSig, on one
 * signed edXML envelope (issue 17: README's table next to axis's Verify and
 * bare goxmldsig, scripts/verify-compare.sh).
 *
 *   xmlsec-verify-bench [-n N | -t SECONDS] ROOT.pem FILE
 *
 * The trusted root is loaded once; the file is read into memory once. Then
 * every verification does what a hub does per envelope, what
 * `xmlsec1 --verify --trusted-pem ROOT --enabled-reference-uris empty FILE`
 * does: parse the bytes with libxml2, find the Signature, verify it with a
 * fresh xmlSecDSigCtx whose key comes from the certificate chain in KeyInfo,
 * checked against ROOT (and the current time), only Reference URI="" being
 * allowed. One untimed verification first, then N of them (-n) or as many
 * as fit in SECONDS (-t, default 1), each one's status checked.
 *
 * On success it prints one line in the format of a Go benchmark, so that
 * the same script reads both:
 *
 *   BenchmarkLibxmlsec1Verify20KB  N  ns/op  MB/s  B/op  allocs/op  verifies/s
 *
 * B/op and allocs/op are what libxml2 and libxmlsec1 (through xmlMemSetup)
 * and OpenSSL (through CRYPTO_set_mem_functions) asked malloc and realloc
 * for, per verification. If any verification is not
 * xmlSecDSigStatusSucceeded it says which and why on stderr and exits 1
 * ("signature invalid" for a digest or signature that does not match);
 * exit 2 for bad usage or a setup failure.
 *
 * Build (never into the repository: the script builds it in a temp dir):
 *
 *   gcc -O2 -o xmlsec-verify-bench scripts/xmlsec-verify-bench.c \
 *       $(pkg-config --cflags --libs xmlsec1-openssl)
 *
 * The cflags matter (-DXMLSEC_NO_SIZE_T, -DXMLSEC_CRYPTO_OPENSSL=1 ...):
 * they give the library's struct layouts. Debian packages: gcc, pkg-config,
 * libxmlsec1-dev (which brings libxml2-dev, libssl-dev and the engines).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlmemory.h>
#include <openssl/crypto.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

static const char *prog = "xmlsec-verify-bench";

/* Allocation counters: single-threaded, so plain counters. */
static unsigned long long alloc_bytes, alloc_count;

static void *count_malloc(size_t n) {
	alloc_bytes += n;
	alloc_count++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n) {
	if (n == 0) {
		free(p);
		return NULL;
	}
	alloc_bytes += n;
	alloc_count++;
	return realloc(p, n);
}

static char *count_strdup(const char *s) {
	size_t n = strlen(s) + 1;
	char *d = count_malloc(n);
	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

static void *ossl_malloc(size_t n, const char *file, int line) {
	(void)file;
	(void)line;
	return count_malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line) {
	(void)file;
	(void)line;
	return count_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line) {
	(void)file;
	(void)line;
	free(p);
}

static double now_seconds(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void) {
	fprintf(stderr, "usage: %s [-n N | -t SECONDS] ROOT.pem FILE\n", prog);
	exit(2);
}

static char *read_all(const char *path, size_t *len) {
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		exit(2);
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (buf == NULL) {
			fprintf(stderr, "%s: out of memory\n", prog);
			exit(2);
		}
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
		buf = realloc(buf, cap);
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: %s: read error\n", prog, path);
		exit(2);
	}
	fclose(f);
	*len = n;
	return buf;
}

/*
 * verify_once parses and verifies the envelope; NULL when its signature is
 * xmlSecDSigStatusSucceeded, else why not.
 */
static const char *verify_once(xmlSecKeysMngrPtr mngr, const char *buf, size_t len, const char *url) {
	const char *why = NULL;
	xmlSecDSigCtxPtr ctx = NULL;
	xmlDocPtr doc = xmlReadMemory(buf, (int)len, url, NULL, XML_PARSE_NONET);
	if (doc == NULL || xmlDocGetRootElement(doc) == NULL) {
		why = "not well-formed XML";
		goto done;
	}
	xmlNodePtr sig = xmlSecFindNode(xmlDocGetRootElement(doc), xmlSecNodeSignature, xmlSecDSigNs);
	if (sig == NULL) {
		why = "no Signature element";
		goto done;
	}
	ctx = xmlSecDSigCtxCreate(mngr);
	if (ctx == NULL) {
		why = "xmlSecDSigCtxCreate failed";
		goto done;
	}
	ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
	if (xmlSecDSigCtxVerify(ctx, sig) < 0) {
		/* No key (an untrusted chain), an unknown algorithm, ... */
		why = "xmlSecDSigCtxVerify failed (no trusted key, or a malformed signature)";
		goto done;
	}
	switch (ctx->status) {
	case xmlSecDSigStatusSucceeded:
		break;
	case xmlSecDSigStatusInvalid:
		why = "signature invalid (xmlSecDSigStatusInvalid)";
		break;
	default:
		why = "signature status unknown";
		break;
	}
done:
	if (ctx != NULL)
		xmlSecDSigCtxDestroy(ctx);
	if (doc != NULL)
		xmlFreeDoc(doc);
	return why;
}

int main(int argc, char **argv) {
	long n = 0;
	double seconds = 1;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i += 2) {
		if (i + 1 >= argc)
			usage();
		char *end;
		if (strcmp(argv[i], "-n") == 0) {
			n = strtol(argv[i + 1], &end, 10);
			if (*end != '\0' || n <= 0)
				usage();
		} else if (strcmp(argv[i], "-t") == 0) {
			seconds = strtod(argv[i + 1], &end);
			if (*end != '\0' || !(seconds > 0))
				usage();
		} else {
			usage();
		}
	}
	if (argc - i != 2)
		usage();
	const char *root = argv[i], *file = argv[i + 1];

	/* Before anything allocates: count every byte of the libraries. */
	int ossl_counted = CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free);
	if (xmlMemSetup(free, count_malloc, count_realloc, count_strdup) != 0) {
		fprintf(stderr, "%s: xmlMemSetup failed\n", prog);
		return 2;
	}
	if (!ossl_counted)
		fprintf(stderr, "%s: OpenSSL's allocations are not counted in B/op\n", prog);

	xmlInitParser();
	LIBXML_TEST_VERSION
	if (xmlSecInit() < 0 || xmlSecCheckVersion() != 1 || xmlSecCryptoAppInit(NULL) < 0 || xmlSecCryptoInit() < 0) {
		fprintf(stderr, "%s: xmlsec initialisation failed (the openssl engine, libxmlsec1-openssl)\n", prog);
		return 2;
	}
	xmlSecKeysMngrPtr mngr = xmlSecKeysMngrCreate();
	if (mngr == NULL || xmlSecCryptoAppDefaultKeysMngrInit(mngr) < 0) {
		fprintf(stderr, "%s: keys manager initialisation failed\n", prog);
		return 2;
	}
	if (xmlSecCryptoAppKeysMngrCertLoad(mngr, root, xmlSecKeyDataFormatPem, xmlSecKeyDataTypeTrusted) < 0) {
		fprintf(stderr, "%s: %s: cannot load the trusted root (PEM)\n", prog, root);
		return 2;
	}

	size_t len;
	char *buf = read_all(file, &len);
	if (len > 0x7fffffff) {
		fprintf(stderr, "%s: %s: too large\n", prog, file);
		return 2;
	}

	/* The untimed first verification: verification #0. */
	const char *why = verify_once(mngr, buf, len, file);
	if (why != NULL) {
		fprintf(stderr, "%s: %s: verification #0: %s\n", prog, file, why);
		return 1;
	}

	alloc_bytes = alloc_count = 0;
	long done = 0;
	double start = now_seconds(), elapsed = 0;
	for (;;) {
		why = verify_once(mngr, buf, len, file);
		done++;
		if (why != NULL) {
			fprintf(stderr, "%s: %s: verification #%ld: %s\n", prog, file, done, why);
			return 1;
		}
		elapsed = now_seconds() - start;
		if (n > 0 ? done >= n : elapsed >= seconds)
			break;
	}
	unsigned long long bytes = alloc_bytes, count = alloc_count;

	/* The benchmark's name: Libxmlsec1Verify and the file's base name
	 * without .xml (20KB.xml: BenchmarkLibxmlsec1Verify20KB). */
	const char *base = strrchr(file, '/');
	base = base != NULL ? base + 1 : file;
	int blen = (int)strlen(base);
	if (blen > 4 && strcmp(base + blen - 4, ".xml") == 0)
		blen -= 4;
	double nsop = elapsed * 1e9 / (double)done;
	printf("BenchmarkLibxmlsec1Verify%.*s \t%8ld\t%12.0f ns/op\t%8.2f MB/s\t%10.0f B/op\t%8.0f allocs/op\t%10.1f verifies/s\n",
	       blen, base, done, nsop, (double)len * (double)done / elapsed / 1e6,
	       (double)bytes / (double)done, (double)count / (double)done, (double)done / elapsed);

	free(buf);
	xmlSecKeysMngrDestroy(mngr);
	xmlSecCryptoShutdown();
	xmlSecCryptoAppShutdown();
	xmlSecShutdown();
	xmlCleanupParser();
	return 0;
}
