/* test_server_auth.c — API key files and their check (server/auth.h):
 * SHA-256 against the FIPS 180-2 example vectors, key file parsing
 * (comments, blank lines, CRLF, whitespace, bad lines, empty and missing
 * files), and the check itself (every key accepted, near misses refused). */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "base/alloc.h"
#include "server/auth.h"
#include "testlib.h"

static void hex(const unsigned char *d, char *out)
{
    for (int i = 0; i < DT_SHA256_LEN; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static int sha_is(const void *data, size_t len, const char *want)
{
    unsigned char d[DT_SHA256_LEN];
    char h[2 * DT_SHA256_LEN + 1];
    dt_sha256(data, len, d);
    hex(d, h);
    if (strcmp(h, want) != 0)
        fprintf(stderr, "  sha256 of %zu bytes: %s, want %s\n", len, h, want);
    return !strcmp(h, want);
}

static void test_sha256_vectors(void)
{
    CHECK(sha_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    CHECK(sha_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56 bytes: two padding blocks */
    CHECK(sha_is(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    size_t n = 1000000;
    char *a = malloc(n);
    CHECK(a != NULL);
    if (a) {
        memset(a, 'a', n);
        CHECK(sha_is(a, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
        free(a);
    }
}

static void test_parse(void)
{
    dt_status st;
    dt_auth_keys *k = NULL;
    const char *text = "# detectd keys\n\n  alpha-key-1  \r\n#beta-commented\nbeta_KEY.2\r\n\t\n gamma~+/=\n";
    CHECK(dt_auth_keys_parse(text, strlen(text), "keys", &k, &st) == DT_OK);
    CHECK(dt_auth_keys_count(k) == 3);
    CHECK(dt_auth_keys_check(k, "alpha-key-1", 11));
    CHECK(dt_auth_keys_check(k, "beta_KEY.2", 10));
    CHECK(dt_auth_keys_check(k, "gamma~+/=", 9));
    /* near misses: prefix, extension, case, a commented key, whitespace kept */
    CHECK(!dt_auth_keys_check(k, "alpha-key-", 10));
    CHECK(!dt_auth_keys_check(k, "alpha-key-12", 12));
    CHECK(!dt_auth_keys_check(k, "ALPHA-KEY-1", 11));
    CHECK(!dt_auth_keys_check(k, "beta-commented", 14));
    CHECK(!dt_auth_keys_check(k, "#beta-commented", 15));
    CHECK(!dt_auth_keys_check(k, " alpha-key-1", 12));
    CHECK(!dt_auth_keys_check(k, "", 0));
    CHECK(!dt_auth_keys_check(k, NULL, 5));
    CHECK(!dt_auth_keys_check(NULL, "alpha-key-1", 11));
    dt_auth_keys_free(k);

    /* no key at all */
    const char *empty[] = {"", "\n\n", "# only a comment\n  # another\n", "   \r\n\t\n"};
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        k = (dt_auth_keys *)1;
        CHECK(dt_auth_keys_parse(empty[i], strlen(empty[i]), "f", &k, &st) == DT_EINVAL && k == NULL);
        CHECK(strstr(st.msg, "no API key") != NULL);
    }
    /* a key with a space or a control character: refused with the line number, never the key */
    const char *bad = "good\nsecret part\n";
    CHECK(dt_auth_keys_parse(bad, strlen(bad), "f", &k, &st) == DT_EINVAL);
    CHECK(strstr(st.msg, "line 2") != NULL && strstr(st.msg, "secret") == NULL);
    const char bad2[] = "ok\n\x01" "ctl\n";
    CHECK(dt_auth_keys_parse(bad2, sizeof bad2 - 1, "f", &k, &st) == DT_EINVAL && strstr(st.msg, "line 2"));
    const char bad3[] = "caf\xc3\xa9\n";
    CHECK(dt_auth_keys_parse(bad3, sizeof bad3 - 1, "f", &k, &st) == DT_EINVAL && strstr(st.msg, "line 1"));
}

static void test_many_keys(void)
{
    /* every key of a long file is accepted, whatever its length (padding edges) */
    char text[20000], key[300];
    size_t o = 0;
    static const int lens[] = {1, 31, 32, 55, 56, 57, 63, 64, 65, 119, 120, 128, 200, 255};
    int n = (int)(sizeof lens / sizeof lens[0]);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < lens[i]; j++)
            text[o++] = (char)('!' + (i * 7 + j) % 90);
        text[o++] = '\n';
    }
    dt_status st;
    dt_auth_keys *k = NULL;
    CHECK(dt_auth_keys_parse(text, o, "many", &k, &st) == DT_OK && dt_auth_keys_count(k) == n);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < lens[i]; j++)
            key[j] = (char)('!' + (i * 7 + j) % 90);
        CHECKF(dt_auth_keys_check(k, key, (size_t)lens[i]), "key %d of %d bytes", i, lens[i]);
        key[lens[i] - 1] ^= 1;
        CHECKF(!dt_auth_keys_check(k, key, (size_t)lens[i]), "altered key %d", i);
    }
    dt_auth_keys_free(k);
}

static void test_load_file(void)
{
    char path[] = "/tmp/detectd_test_keysXXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    const char *text = "# comment\nfile-key-123\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    dt_status st;
    dt_auth_keys *k = NULL;
    CHECK(dt_auth_keys_load(path, &k, &st) == DT_OK && dt_auth_keys_count(k) == 1);
    CHECK(dt_auth_keys_check(k, "file-key-123", 12));
    dt_auth_keys_free(k);
    /* empty file: EINVAL naming the file */
    fd = open(path, O_WRONLY | O_TRUNC);
    close(fd);
    CHECK(dt_auth_keys_load(path, &k, &st) == DT_EINVAL && strstr(st.msg, path) != NULL);
    unlink(path);
    /* missing file: EIO naming the file */
    CHECK(dt_auth_keys_load(path, &k, &st) == DT_EIO && strstr(st.msg, path) != NULL && k == NULL);
}

int main(void)
{
    RUN(test_sha256_vectors);
    RUN(test_parse);
    RUN(test_many_keys);
    RUN(test_load_file);
    return tl_summary();
}
