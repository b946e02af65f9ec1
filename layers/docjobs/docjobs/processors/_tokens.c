/* Token counting (model.py's count_tokens), in C: a token is each run of word characters and each
 * character that is neither a word character nor white space; the regex r"\w+|[^\w\s]" counts the
 * same, by the same definitions (a word character: str.isalnum() or "_"; white space:
 * str.isspace()). model.py's Python count is the reference; model.py uses this one only where it
 * is built. The kind of every character below U+10000 is looked up in a table made once, from
 * CPython's own Py_UNICODE_ISALNUM and Py_UNICODE_ISSPACE; others are asked of those directly.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

enum { SPACE = 0, WORD = 1, MARK = 2 };

static unsigned char kinds[0x10000];

static inline unsigned char kind_of(Py_UCS4 c)
{
    if (c < 0x10000)
        return kinds[c];
    return Py_UNICODE_ISALNUM(c) ? WORD : Py_UNICODE_ISSPACE(c) ? SPACE : MARK;
}

/* The text's tokens; and into *spaced, whether normalize_space would change it (white space but
 * single spaces, or a space at either end). */
#define COUNT(TYPE)                                                                                \
    do {                                                                                           \
        const TYPE *s = (const TYPE *)data;                                                        \
        for (Py_ssize_t i = 0; i < n; i++) {                                                       \
            unsigned char kind = kind_of(s[i]);                                                    \
            tokens += (kind == MARK) | ((kind == WORD) & (previous != WORD));                      \
            odd |= (kind == SPACE) & ((s[i] != ' ') | (previous == SPACE));                        \
            previous = kind;                                                                       \
        }                                                                                          \
        odd |= n > 0 && s[n - 1] == ' '; /* (a leading space follows the SPACE before the text) */  \
    } while (0)

static Py_ssize_t count(PyObject *text, int *spaced)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t tokens = 0;
    unsigned char previous = SPACE; /* (what stands before the text) */
    int odd = 0;
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND:
        COUNT(Py_UCS1);
        break;
    case PyUnicode_2BYTE_KIND:
        COUNT(Py_UCS2);
        break;
    default:
        COUNT(Py_UCS4);
        break;
    }
    *spaced = odd;
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
    for (Py_UCS4 c = 0; c < 0x10000; c++)
        kinds[c] = Py_UNICODE_ISALNUM(c) || c == '_' ? WORD : Py_UNICODE_ISSPACE(c) ? SPACE : MARK;
    return PyModule_Create(&module);
}
