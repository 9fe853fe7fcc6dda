/* tests/unit/test_tokenizer.c: the tokenizer handle (data/tokenizer.c): byte-level and BPE
 * behind one interface, the vocabulary-size check, opening files with a cap, copies for other
 * threads. Run by `make test`. */
#include "tests/testutil.h"

#include "data/tokenizer.h"

static void test_check_vocab(void **state)
{
    (void)state;
    assert_int_equal(cs_tok_check_vocab(256, 0, "--vocab"), CS_OK);
    assert_int_equal(cs_tok_check_vocab(CS_TOK_MAX_VOCAB, 0, "--vocab"), CS_OK);
    assert_int_equal(cs_tok_check_vocab(255, 0, "--vocab"), CS_EINPUT);
    tu_assert_errmsg_has("--vocab: vocabulary size 255 is below 256, the byte alphabet");
    assert_int_equal(cs_tok_check_vocab(0, 0, NULL), CS_EINPUT);
    tu_assert_errmsg_has("vocabulary: vocabulary size 0 is below 256");
    assert_int_equal(cs_tok_check_vocab(CS_TOK_MAX_VOCAB + 1, 0, "--vocab"), CS_EINPUT);
    tu_assert_errmsg_has("--vocab: vocabulary size 1048577 is above the limit 1048576");
    /* A store of uint16 ids checks its own limit. */
    assert_int_equal(cs_tok_check_vocab(65536, 65536, "tokens.bin"), CS_OK);
    assert_int_equal(cs_tok_check_vocab(65537, 65536, "tokens.bin"), CS_EINPUT);
    tu_assert_errmsg_has("tokens.bin: vocabulary size 65537 is above the limit 65536");
}

static void test_byte(void **state)
{
    cs_tok *t = cs_tok_alloc_byte();
    uint8_t text[512];
    uint32_t ids[512];
    uint8_t back[512];
    size_t n_ids = 0;
    size_t n_back = 0;
    size_t i;
    uint32_t bad = 256;

    (void)state;
    assert_non_null(t);
    assert_int_equal(cs_tok_vocab(t), 256);
    assert_string_equal(cs_tok_kind(t), "byte");
    for (i = 0; i < sizeof text; i++)
        text[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(cs_tok_encode(t, text, sizeof text, ids, &n_ids), CS_OK);
    assert_int_equal(n_ids, sizeof text);
    for (i = 0; i < n_ids; i++)
        assert_int_equal(ids[i], text[i]);
    assert_int_equal(cs_tok_decode(t, ids, n_ids, back, sizeof back, &n_back), CS_OK);
    assert_int_equal(n_back, sizeof text);
    assert_memory_equal(back, text, sizeof text);
    assert_int_equal(cs_tok_encode(t, NULL, 0, NULL, &n_ids), CS_OK);
    assert_int_equal(n_ids, 0);
    assert_int_equal(cs_tok_decode(t, &bad, 1, back, sizeof back, &n_back), CS_EINPUT);
    tu_assert_errmsg_has("id 256 is outside the vocabulary (0 to 255)");
    cs_tok_free(t);
    cs_tok_free(NULL);
}

/* Encodes text with t and checks the decoding; returns the token count. */
static size_t encode_check(cs_tok *t, const char *text, uint32_t *ids)
{
    size_t n = strlen(text);
    uint8_t back[1024];
    size_t n_ids = 0;
    size_t n_back = 0;

    assert_int_equal(cs_tok_encode(t, (const uint8_t *)text, n, ids, &n_ids), CS_OK);
    assert_int_equal(cs_tok_decode(t, ids, n_ids, back, sizeof back, &n_back), CS_OK);
    assert_int_equal(n_back, n);
    assert_memory_equal(back, text, n);
    return n_ids;
}

static void test_bpe_handle(void **state)
{
    const char *text = "the cat sat on the mat; the cat ate the rat. the end, the cat.";
    cs_bpe_params p = cs_bpe_default_params();
    cs_bpe *b = NULL;
    cs_tok *full;
    cs_tok *small;
    cs_tok *copy;
    uint32_t ids[1024];
    uint32_t ids2[1024];
    size_t n_full, n_small, n_copy;

    (void)state;
    p.vocab = 270;
    p.min_count = 1;
    assert_int_equal(cs_bpe_train((const uint8_t *)text, strlen(text), &p, &b), CS_OK);
    full = cs_tok_alloc_bpe(b, 0);
    small = cs_tok_alloc_bpe(b, 258);
    assert_non_null(full);
    assert_non_null(small);
    assert_string_equal(cs_tok_kind(full), "bpe");
    assert_int_equal(cs_tok_vocab(full), 270);
    assert_int_equal(cs_tok_vocab(small), 258);
    assert_int_equal(cs_bpe_vocab(cs_tok_model(small)), 258);
    n_full = encode_check(full, text, ids);
    n_small = encode_check(small, text, ids);
    assert_true(n_full < n_small);
    assert_true(n_small < strlen(text));
    copy = cs_tok_dup(full);
    assert_non_null(copy);
    n_copy = encode_check(copy, text, ids2);
    encode_check(full, text, ids);
    assert_int_equal(n_copy, n_full);
    assert_memory_equal(ids, ids2, n_full * sizeof *ids);
    assert_null(cs_tok_alloc_bpe(b, 271));
    tu_assert_errmsg_has("vocabulary 271: expected 256 to 270");
    cs_tok_free(copy);
    cs_tok_free(small);
    cs_tok_free(full);
    cs_bpe_free(b);
}

static void test_open(void **state)
{
    const char *file = "ctxscale-bpe 1\nvocab 259\npretokenizer cs1 256\ntext_bytes 11\n"
                       "97 97 9\n97 98 7\n256 257 5\nend\n";
    char *dir = tu_tmpdir();
    char path[4096];
    cs_tok *t = NULL;
    uint32_t ids[64];

    (void)state;
    snprintf(path, sizeof path, "%s/tiny.bpe", dir);
    tu_write_file(path, file, strlen(file));
    assert_int_equal(cs_tok_open(path, 0, &t), CS_OK);
    assert_int_equal(cs_tok_vocab(t), 259);
    assert_int_equal(encode_check(t, "aaabdaaabac", ids), 5);
    assert_int_equal(ids[0], 258);
    cs_tok_free(t);
    assert_int_equal(cs_tok_open(path, 257, &t), CS_OK);
    assert_int_equal(cs_tok_vocab(t), 257);
    assert_int_equal(encode_check(t, "aaabdaaabac", ids), 9);
    cs_tok_free(t);
    t = NULL;
    assert_int_equal(cs_tok_open(path, 300, &t), CS_EINPUT);
    tu_assert_errmsg_has("tiny.bpe: vocabulary cap 300: expected 256 to 259");
    assert_null(t);
    tu_write_file(path, file, strlen(file) - 10);
    assert_int_equal(cs_tok_open(path, 0, &t), CS_EINPUT);
    tu_assert_errmsg_has("tiny.bpe:7: truncated");
    remove(path);
    rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_vocab),
        cmocka_unit_test(test_byte),
        cmocka_unit_test(test_bpe_handle),
        cmocka_unit_test(test_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
