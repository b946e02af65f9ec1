/* Token counting (model.py's count_tokens), in C: a token is each run of word characters and each
 * character that is neither a word character nor white space; the regex r"\w+|[^\w\s]" counts the
 * same, by the same definitions (a word character: str.isalnum() or "_"; white space:
 * str.isspace()). model.py's Python count is the reference; model.py uses this one only where it
 * is built. The kind of every character below U+0100 is looked up in a table made once, from
 * CPython's own Py_UNICODE_ISALNUM and Py_UNICODE_ISSPACE; others are asked of those directly.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum { SPACE = 0, WORD = 1, MARK = 2 };

static unsigned char kinds[0x100]; /* (a table of all 65,536 below U+10000 took 2.8 ms to make on import) */

static inline unsigned char kind_of(Py_UCS4 c)
{
    if (c < 0x100)
        return kinds[c];
    return Py_UNICODE_ISALNUM(c) ? WORD : Py_UNICODE_ISSPACE(c) ? SPACE : MARK;
}

/* The text's tokens; and into *spaced, whether normalize_space would change it (white space but
 * single spaces, or a space at either end). One character at a time, from FROM to TO: */
#define COUNT(TYPE, FROM, TO)                                                                      \
    do {                                                                                           \
        const TYPE *s_ = (const TYPE *)data;                                                       \
        for (Py_ssize_t i_ = (FROM); i_ < (TO); i_++) {                                            \
            unsigned char kind_ = kind_of(s_[i_]);                                                 \
            tokens += (kind_ == MARK) | ((kind_ == WORD) & (previous != WORD));                    \
            odd |= (kind_ == SPACE) & ((s_[i_] != ' ') | (previous == SPACE));                     \
            previous = kind_;                                                                      \
        }                                                                                          \
    } while (0)

/* ... and 16 bytes (or 8 characters of two bytes) at a time where all are of ASCII, whose kinds
 * are ranges: each character is looked at beside the one before it (loaded one character earlier),
 * so the lanes do not wait on each other. (GCC's and Clang's vector types: SSE2, NEON.) */
typedef unsigned char bytes16 __attribute__((vector_size(16)));
typedef signed char flags16 __attribute__((vector_size(16)));
typedef unsigned short chars8 __attribute__((vector_size(16)));
typedef short flags8 __attribute__((vector_size(16)));

#define IS_WORD(VEC, c) (((VEC)((c) - '0') <= 9) | ((VEC)(((c) | 0x20) - 'a') <= 25) | ((c) == '_'))
#define IS_SPACE(VEC, c) (((c) == ' ') | ((VEC)((c) - 9) <= 4) | ((VEC)((c) - 0x1c) <= 3))

static inline int any_of(const void *vector)
{
    uint64_t halves[2];
    memcpy(halves, vector, sizeof halves);
    return (halves[0] | halves[1]) != 0;
}

/* Characters 1 to n - 1 (the first is counted before). */
#define VECTOR_COUNT(TYPE, VEC, FLAGS, LANES, ALL_ASCII)                                           \
    do {                                                                                           \
        const TYPE *s = (const TYPE *)data;                                                        \
        Py_ssize_t i = 1;                                                                          \
        FLAGS starts = {0}, spacing = {0};                                                         \
        int rounds = 0;                                                                            \
        for (; i + (LANES) <= n; i += (LANES)) {                                                   \
            VEC c, before;                                                                         \
            memcpy(&c, s + i, sizeof c);                                                           \
            memcpy(&before, s + i - 1, sizeof before);                                             \
            if (!(ALL_ASCII)) {                                                                    \
                FLAGS past = (FLAGS)((c | before) >= 0x80);                                        \
                if (any_of(&past)) { /* one at a time: the kinds past ASCII are no ranges */       \
                    previous = kind_of(s[i - 1]);                                                  \
                    COUNT(TYPE, i, i + (LANES));                                                   \
                    continue;                                                                      \
                }                                                                                  \
            }                                                                                      \
            FLAGS word = (FLAGS)IS_WORD(VEC, c), space = (FLAGS)IS_SPACE(VEC, c);                  \
            FLAGS word_before = (FLAGS)IS_WORD(VEC, before);                                       \
            FLAGS space_before = (FLAGS)IS_SPACE(VEC, before);                                     \
            starts -= ~(word | space) | (word & ~word_before); /* -1 where a token starts */       \
            spacing |= space & ((FLAGS)(c != ' ') | space_before);                                 \
            if (++rounds == 100) { /* (before a lane's sum could overflow) */                     \
                tokens += lane_sum_##FLAGS(starts);                                                \
                starts = (FLAGS){0};                                                               \
                rounds = 0;                                                                        \
            }                                                                                      \
        }                                                                                          \
        tokens += lane_sum_##FLAGS(starts);                                                        \
        odd |= any_of(&spacing);                                                                   \
        previous = kind_of(s[i - 1]);                                                              \
        COUNT(TYPE, i, n);                                                                         \
    } while (0)

static inline Py_ssize_t lane_sum_flags16(flags16 v)
{
    signed char lanes[16];
    memcpy(lanes, &v, sizeof lanes);
    Py_ssize_t sum = 0;
    for (int k = 0; k < 16; k++)
        sum += lanes[k];
    return sum;
}

static inline Py_ssize_t lane_sum_flags8(flags8 v)
{
    short lanes[8];
    memcpy(lanes, &v, sizeof lanes);
    Py_ssize_t sum = 0;
    for (int k = 0; k < 8; k++)
        sum += lanes[k];
    return sum;
}

static Py_ssize_t count(PyObject *text, int *spaced)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const void *data = PyUnicode_DATA(text);
    int kind = PyUnicode_KIND(text);
    Py_ssize_t tokens = 0;
    unsigned char previous = SPACE; /* (what stands before the text: a leading space is odd) */
    int odd = 0;
    if (n == 0) {
        *spaced = 0;
        return 0;
    }
    if (kind == PyUnicode_1BYTE_KIND && PyUnicode_IS_ASCII(text)) {
        COUNT(Py_UCS1, 0, 1);
        VECTOR_COUNT(Py_UCS1, bytes16, flags16, 16, 1);
    } else if (kind == PyUnicode_1BYTE_KIND) {
        COUNT(Py_UCS1, 0, n);
    } else if (kind == PyUnicode_2BYTE_KIND) {
        COUNT(Py_UCS2, 0, 1);
        VECTOR_COUNT(Py_UCS2, chars8, flags8, 8, 0);
    } else {
        COUNT(Py_UCS4, 0, n);
    }
    *spaced = odd || PyUnicode_READ(kind, data, n - 1) == ' ';
    return tokens;
}

PyDoc_STRVAR(count_tokens_doc, "count_tokens(text) -> int");

static PyObject *count_tokens(PyObject *module, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "a str is needed");
        return NULL;
    }
    int spaced;
    return PyLong_FromSsize_t(count(text, &spaced));
}

PyDoc_STRVAR(count_tokens_each_doc,
             "count_tokens_each(texts) -> (counts, spaced): each text's tokens, and the indices of the texts "
             "normalize_space would change.");

static PyObject *count_tokens_each(PyObject *module, PyObject *texts)
{
    PyObject *sequence = PySequence_Fast(texts, "a list of str is needed");
    if (sequence == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(sequence);
    PyObject **items = PySequence_Fast_ITEMS(sequence);
    PyObject *counts = PyList_New(n);
    PyObject *spaced = PyList_New(0);
    if (counts == NULL || spaced == NULL)
        goto failed;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyUnicode_Check(items[i])) {
            PyErr_SetString(PyExc_TypeError, "a list of str is needed");
            goto failed;
        }
        int odd;
        PyObject *tokens = PyLong_FromSsize_t(count(items[i], &odd));
        if (tokens == NULL)
            goto failed;
        PyList_SET_ITEM(counts, i, tokens);
        if (odd) {
            PyObject *index = PyLong_FromSsize_t(i);
            if (index == NULL || PyList_Append(spaced, index) < 0) {
                Py_XDECREF(index);
                goto failed;
            }
            Py_DECREF(index);
        }
    }
    Py_DECREF(sequence);
    return Py_BuildValue("(NN)", counts, spaced);
failed:
    Py_DECREF(sequence);
    Py_XDECREF(counts);
    Py_XDECREF(spaced);
    return NULL;
}

static PyMethodDef methods[] = {
    {"count_tokens", count_tokens, METH_O, count_tokens_doc},
    {"count_tokens_each", count_tokens_each, METH_O, count_tokens_each_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_tokens", NULL, -1, methods};

PyMODINIT_FUNC PyInit__tokens(void)
{
    for (Py_UCS4 c = 0; c < 0x100; c++)
        kinds[c] = Py_UNICODE_ISALNUM(c) || c == '_' ? WORD : Py_UNICODE_ISSPACE(c) ? SPACE : MARK;
    return PyModule_Create(&module);
}
