/* The HTML parser's walk (formats/html.py's _walk, _rows and the white-space normalizing after
 * them), in C over the tree selectolax's lexbor has built: one pass that reads no node twice but
 * the paragraphs and list items that turn out to hold blocks, and makes a Python object only for
 * each block (its Block, its text, a table's rows). html.py's Python walk is the reference;
 * html.py uses this one only once it has checked, on its import, that both read a sample alike.
 *
 * Two layouts are read, not called: lexbor's DOM node (lexbor/dom/interfaces/node.h and
 * character_data.h, Apache-2.0; the lexbor inside selectolax 1.0.2) and selectolax's LexborNode
 * object (its lexbor.pxd: after the object header, a vtable pointer, then the node). configure()
 * refuses a type of another name or too small for that, walk() any object not of that type; tag
 * ids are not compiled in: html.py reads them off nodes it creates by name, through tag_id(), and
 * refuses ids that are not all distinct (a node read wrong).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#if PY_VERSION_HEX < 0x030C0000
#include <structmember.h>
#define Py_T_OBJECT_EX T_OBJECT_EX
#endif
#include <string.h>

typedef struct lxb_node lxb_node;
struct lxb_node {
    void *events;
    uintptr_t local_name; /* the tag id of an element */
    uintptr_t prefix;
    uintptr_t ns;
    void *owner_document;
    lxb_node *next;
    lxb_node *prev;
    lxb_node *parent;
    lxb_node *first_child;
    lxb_node *last_child;
    void *user;
    int type;
};

typedef struct {
    lxb_node node;
    unsigned char *data;
    size_t length;
} lxb_character_data;

enum { NODE_ELEMENT = 1, NODE_TEXT = 3 };

typedef struct {
    PyObject_HEAD
    void *vtab;
    lxb_node *node;
} LexborNodeObject;

/* What an element is to the walk (html.py's tag sets), and whether it is a block (_BLOCKS). */
enum {
    K_INLINE = 0, K_SKIPPED, K_BREAK, K_PARAGRAPH, K_LIST_ITEM, K_HEADING, K_CONTAINER, K_TABLE,
    K_PRE, K_ROW, K_CELL, K_KINDS
};
#define BLOCK_FLAG 0x80
#define LEVEL_SHIFT 4 /* a heading's level, 1 to 6, in bits 4 to 6 */
#define KIND_MASK 0x0f

/* The kinds of block walk() makes (configure() is given their Block types). */
enum { OUT_PARAGRAPH = 0, OUT_LIST_ITEM, OUT_HEADING, OUT_TABLE, OUT_CODE };

#define TAGS 4096
static unsigned char kinds[TAGS]; /* by tag id; ids past it (custom elements) are inline */
static Py_ssize_t node_size;       /* LexborNode's basicsize, once configured */

/* The Block dataclass (model.py) the walk makes, its fields in this order, where its slots are. */
#define FIELDS 7
static const char *const field_names[FIELDS] = {"type", "text", "page", "level", "heading_path", "rows", "font_size"};
static Py_ssize_t field_offsets[FIELDS];
static PyTypeObject *block_type;
static PyObject *type_names[5]; /* by the OUT_ kinds above */
static PyObject *page_one;

static inline unsigned char kind_of(const lxb_node *node)
{
    return node->local_name < TAGS ? kinds[node->local_name] : K_INLINE;
}

/* A growing byte buffer. */
typedef struct {
    char *data;
    size_t length;
    size_t size;
} Buffer;

static int reserve(Buffer *b, size_t more)
{
    if (b->length + more <= b->size)
        return 0;
    size_t size = b->size ? b->size : 256;
    while (size < b->length + more)
        size *= 2;
    char *data = PyMem_Realloc(b->data, size);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->size = size;
    return 0;
}

static int append(Buffer *b, const void *data, size_t n)
{
    if (n == 0) /* (an empty text node's data may be NULL) */
        return 0;
    if (reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->length, data, n);
    b->length += n;
    return 0;
}

/* The length in bytes of the white space (str.isspace) starting at s, or 0: ASCII's, and in
 * UTF-8 U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F and U+3000. */
static const unsigned char ascii_space[128] = {
    ['\t'] = 1, ['\n'] = 1, [0x0b] = 1, [0x0c] = 1, ['\r'] = 1,
    [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, [' '] = 1,
};

static inline size_t space_at(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return ascii_space[c];
    if (c == 0xc2)
        return n >= 2 && (s[1] == 0x85 || s[1] == 0xa0) ? 2 : 0;
    if (n < 3)
        return 0;
    if (c == 0xe1)
        return s[1] == 0x9a && s[2] == 0x80 ? 3 : 0;
    if (c == 0xe2) {
        if (s[1] == 0x80)
            return (s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf ? 3 : 0;
        return s[1] == 0x81 && s[2] == 0x9f ? 3 : 0;
    }
    if (c == 0xe3)
        return s[1] == 0x80 && s[2] == 0x80 ? 3 : 0;
    return 0;
}

/* Whether the text's white space is normalized: single spaces, none at the ends, no other. A look
 * at every byte and the two after it, 16 at a time (GCC's and Clang's vector types: SSE2 on x86,
 * NEON on arm64). A control character counts as white space here (the slow way tells them apart). */
typedef unsigned char bytes16 __attribute__((vector_size(16)));
typedef signed char flags16 __attribute__((vector_size(16)));

static inline flags16 odd_at(bytes16 a, bytes16 b, bytes16 c)
{
    return (a < 0x20) | ((a == 0x20) & (b == 0x20)) | ((a == 0xc2) & ((b == 0x85) | (b == 0xa0))) |
           ((a == 0xe1) & (b == 0x9a) & (c == 0x80)) | ((a == 0xe3) & (b == 0x80) & (c == 0x80)) |
           ((a == 0xe2) & (((b == 0x80) & (((bytes16)(c - 0x80) <= 0x0a) | (c == 0xa8) | (c == 0xa9) | (c == 0xaf))) |
                           ((b == 0x81) & (c == 0x9f))));
}

static int already_normalized(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 1;
    if (s[0] == ' ' || s[n - 1] == ' ')
        return 0;
    flags16 odd = {0};
    size_t i = 0;
    for (; i + 18 <= n; i += 16) {
        bytes16 a, b, c;
        memcpy(&a, s + i, 16);
        memcpy(&b, s + i + 1, 16);
        memcpy(&c, s + i + 2, 16);
        odd |= odd_at(a, b, c);
    }
    uint64_t halves[2];
    memcpy(halves, &odd, sizeof halves);
    if (halves[0] | halves[1])
        return 0;
    for (; i < n; i++) /* the last bytes */
        if (s[i] == ' ' ? i + 1 < n && s[i + 1] == ' ' : s[i] < ' ' || space_at(s + i, n - i))
            return 0;
    return 1;
}

/* Text appended to `out` with its white space collapsed (what " ".join(text.split()) does, on
 * the UTF-8 bytes: the white space is the same, and an invalid byte is no white space, as the
 * U+FFFD it decodes to is not). `*gap`: white space stands between out's text and what comes next
 * (a space is written only before more text, never at the start). */
static int append_collapsed(Buffer *out, const unsigned char *s, size_t n, int *gap)
{
    if (reserve(out, n + 1) < 0) /* the text, and a space before it */
        return -1;
    char *o = out->data + out->length;
    size_t i = 0;
    int pending = *gap;
    while (i < n) {
        unsigned char c = s[i];
        if (c > ' ' && c < 0x80) { /* most often: a run of ASCII without white space */
            if (pending) {
                if (o != out->data)
                    *o++ = ' ';
                pending = 0;
            }
            do
                *o++ = (char)s[i++];
            while (i < n && s[i] > ' ' && s[i] < 0x80);
            continue;
        }
        size_t w = space_at(s + i, n - i);
        if (w) {
            pending = 1;
            i += w;
            continue;
        }
        if (pending) {
            if (o != out->data)
                *o++ = ' ';
            pending = 0;
        }
        *o++ = (char)c;
        i++;
    }
    out->length = (size_t)(o - out->data);
    *gap = pending;
    return 0;
}

/* The same, copied as it is where it is already normalized (most often). */
static int append_normalized(Buffer *out, const unsigned char *s, size_t n, int *gap)
{
    if (!already_normalized(s, n))
        return append_collapsed(out, s, n, gap);
    if (n == 0) /* (nothing to copy: s may be NULL) */
        return 0;
    if (*gap && out->length && append(out, " ", 1) < 0)
        return -1;
    *gap = 0;
    return append(out, s, n);
}

/* The next node in document order within `root`'s subtree, not entering `node`'s children unless
 * `enter`; NULL past its end. */
static inline lxb_node *next_in(const lxb_node *root, lxb_node *node, int enter)
{
    if (enter && node->first_child != NULL)
        return node->first_child;
    while (node != root && node->next == NULL)
        node = node->parent;
    return node == root ? NULL : node->next;
}

/* The element's text content (lexbor's, of its text nodes in order), with the skipped elements'
 * text left out and a line break for each <br> (html.py removes those and replaces these first).
 * With `unless_a_block`, 1 (and no text) where a block stands inside it (html.py's _holders). */
static int text_content(const lxb_node *element, Buffer *out, int unless_a_block)
{
    out->length = 0;
    lxb_node *node = element->first_child;
    while (node != NULL) {
        int enter = 0;
        if (node->type == NODE_TEXT) {
            const lxb_character_data *text = (const lxb_character_data *)node;
            if (append(out, text->data, text->length) < 0)
                return -1;
        } else if (node->type == NODE_ELEMENT) {
            unsigned char kind = kind_of(node);
            if (unless_a_block && (kind & BLOCK_FLAG)) {
                out->length = 0;
                return 1;
            }
            kind &= KIND_MASK;
            if (kind == K_BREAK) {
                if (append(out, "\n", 1) < 0)
                    return -1;
            } else {
                enter = kind != K_SKIPPED;
            }
        }
        node = next_in(element, node, enter);
    }
    return 0;
}

typedef struct {
    PyObject *blocks;   /* the result: Blocks */
    Buffer inline_text; /* loose text and inline elements since the last block, normalized */
    int inline_gap;
    int has_inline;
    Buffer raw;         /* an element's text content, as read */
    Buffer text;        /* ... normalized */
} Walk;

static PyObject *decode(const Buffer *b)
{
    return PyUnicode_DecodeUTF8(b->data, (Py_ssize_t)b->length, "replace");
}

/* A table's rows with text (each row a list of its cells' texts), and its text: its rows, one a
 * line, their cells joined by " | " (html.py's read_blocks does the same for the Python walk). */
static PyObject *table_text(PyObject *rows, PyObject **kept)
{
    PyObject *lines = PyList_New(0), *bar = PyUnicode_FromString(" | "), *text = NULL;
    *kept = PyList_New(0);
    if (lines == NULL || bar == NULL || *kept == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows); i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        int any = 0;
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(row) && !any; j++)
            any = PyUnicode_GET_LENGTH(PyList_GET_ITEM(row, j)) > 0;
        if (!any)
            continue;
        PyObject *line = PyUnicode_Join(bar, row);
        if (line == NULL || PyList_Append(lines, line) < 0 || PyList_Append(*kept, row) < 0) {
            Py_XDECREF(line);
            goto done;
        }
        Py_DECREF(line);
    }
    PyObject *newline = PyUnicode_FromString("\n");
    if (newline != NULL)
        text = PyUnicode_Join(newline, lines);
    Py_XDECREF(newline);
done:
    Py_XDECREF(lines);
    Py_XDECREF(bar);
    if (text == NULL)
        Py_CLEAR(*kept);
    return text;
}

/* One block, a Block made as its dataclass __init__ makes one (every field set, its slots written
 * where configure() found them), appended; a block without text is left out, as html.py leaves it.
 * Takes `text` (NULL: an error before); `rows` is borrowed. */
static int emit(Walk *w, int kind, PyObject *text, int level, PyObject *rows)
{
    if (text == NULL)
        return -1;
    PyObject *kept = NULL;
    if (kind == OUT_TABLE) {
        Py_DECREF(text);
        if ((text = table_text(rows, &kept)) == NULL)
            return -1;
        rows = kept;
    }
    int failed = 0;
    if (PyUnicode_GET_LENGTH(text) > 0) {
        PyObject *block = block_type->tp_alloc(block_type, 0);
        PyObject *path = PyList_New(0);
        PyObject *level_value = level ? PyLong_FromLong(level) : Py_NewRef(Py_None);
        if (block == NULL || path == NULL || level_value == NULL) {
            Py_XDECREF(block);
            Py_XDECREF(path);
            Py_XDECREF(level_value);
            failed = -1;
        } else {
            PyObject *fields[FIELDS] = {Py_NewRef(type_names[kind]), Py_NewRef(text), Py_NewRef(page_one), level_value,
                                        path, Py_NewRef(rows ? rows : Py_None), Py_NewRef(Py_None)};
            for (int i = 0; i < FIELDS; i++)
                *(PyObject **)((char *)block + field_offsets[i]) = fields[i];
            failed = PyList_Append(w->blocks, block);
            Py_DECREF(block);
        }
    }
    Py_DECREF(text);
    Py_XDECREF(kept);
    return failed;
}

/* The loose text and inline elements read since the last block, as one paragraph. */
static int flush(Walk *w)
{
    if (!w->has_inline)
        return 0;
    w->has_inline = 0;
    w->inline_gap = 0;
    int failed = w->inline_text.length ? emit(w, OUT_PARAGRAPH, decode(&w->inline_text), 0, NULL) : 0;
    w->inline_text.length = 0;
    return failed;
}

/* One more piece of the paragraph being read: pieces are joined by a space. */
static int add_inline(Walk *w, const unsigned char *s, size_t n)
{
    if (w->has_inline)
        w->inline_gap = 1;
    w->has_inline = 1;
    return append_normalized(&w->inline_text, (const unsigned char *)s, n, &w->inline_gap);
}

/* The text content last read (w->raw), normalized, as a str. */
static PyObject *raw_normalized(Walk *w)
{
    if (already_normalized((const unsigned char *)w->raw.data, w->raw.length)) /* most often: as read */
        return decode(&w->raw);
    int gap = 0;
    w->text.length = 0;
    if (append_collapsed(&w->text, (const unsigned char *)w->raw.data, w->raw.length, &gap) < 0)
        return NULL;
    return decode(&w->text);
}

/* The table's rows of normalized cell texts: every <tr> inside it, in document order, each with
 * its own <td> and <th> cells (a nested table's rows come after the row holding it). */
static PyObject *rows_of(Walk *w, const lxb_node *table)
{
    PyObject *rows = PyList_New(0);
    if (rows == NULL)
        return NULL;
    lxb_node *node = table->first_child;
    while (node != NULL) {
        int enter = 0;
        if (node->type == NODE_ELEMENT) {
            unsigned char kind = kind_of(node) & KIND_MASK;
            enter = kind != K_SKIPPED;
            if (kind == K_ROW) {
                PyObject *row = PyList_New(0);
                if (row == NULL || PyList_Append(rows, row) < 0) {
                    Py_XDECREF(row);
                    Py_DECREF(rows);
                    return NULL;
                }
                Py_DECREF(row); /* rows holds it */
                for (lxb_node *cell = node->first_child; cell != NULL; cell = cell->next) {
                    if (cell->type != NODE_ELEMENT || (kind_of(cell) & KIND_MASK) != K_CELL)
                        continue;
                    PyObject *text = text_content(cell, &w->raw, 0) < 0 ? NULL : raw_normalized(w);
                    if (text == NULL || PyList_Append(row, text) < 0) {
                        Py_XDECREF(text);
                        Py_DECREF(rows);
                        return NULL;
                    }
                    Py_DECREF(text);
                }
            }
        }
        node = next_in(table, node, enter);
    }
    return rows;
}

/* One element or text node among a container's children; *enter is set for a container to walk. */
static int visit(Walk *w, lxb_node *node, int *enter)
{
    if (node->type == NODE_TEXT) {
        const lxb_character_data *text = (const lxb_character_data *)node;
        return add_inline(w, text->data, text->length);
    }
    if (node->type != NODE_ELEMENT)
        return 0; /* comments are no text */
    unsigned char kind = kind_of(node);
    switch (kind & KIND_MASK) {
    case K_SKIPPED:
    case K_BREAK: /* (white space between blocks) */
        return 0;
    case K_PARAGRAPH:
    case K_LIST_ITEM:
        if (flush(w) < 0)
            return -1;
        switch (text_content(node, &w->raw, 1)) {
        case -1:
            return -1;
        case 1: /* it holds blocks: read as a container */
            *enter = 1;
            return 0;
        }
        return emit(w, (kind & KIND_MASK) == K_PARAGRAPH ? OUT_PARAGRAPH : OUT_LIST_ITEM, raw_normalized(w), 0, NULL);
    case K_HEADING:
        if (flush(w) < 0 || text_content(node, &w->raw, 0) < 0)
            return -1;
        return emit(w, OUT_HEADING, raw_normalized(w), (kind >> LEVEL_SHIFT) & 0x07, NULL);
    case K_CONTAINER:
        if (flush(w) < 0)
            return -1;
        *enter = 1;
        return 0;
    case K_TABLE: {
        if (flush(w) < 0)
            return -1;
        PyObject *rows = rows_of(w, node);
        if (rows == NULL)
            return -1;
        int failed = emit(w, OUT_TABLE, PyUnicode_FromStringAndSize("", 0), 0, rows);
        Py_DECREF(rows);
        return failed;
    }
    case K_PRE: {
        if (flush(w) < 0)
            return -1;
        if (text_content(node, &w->raw, 0) < 0)
            return -1;
        size_t start = 0, end = w->raw.length; /* without its leading and trailing line breaks */
        while (start < end && w->raw.data[start] == '\n')
            start++;
        while (end > start && w->raw.data[end - 1] == '\n')
            end--;
        if (start == end)
            return 0;
        return emit(w, OUT_CODE, PyUnicode_DecodeUTF8(w->raw.data + start, (Py_ssize_t)(end - start), "replace"),
                    0, NULL);
    }
    default: /* an inline element (rows and cells outside a table read as such) */
        if (text_content(node, &w->raw, 0) < 0)
            return -1;
        return add_inline(w, (const unsigned char *)w->raw.data, w->raw.length);
    }
}

static lxb_node *node_of(PyObject *object)
{
    if (node_size == 0) {
        PyErr_SetString(PyExc_RuntimeError, "configure() first");
        return NULL;
    }
    if (Py_TYPE(object)->tp_basicsize != node_size || strcmp(Py_TYPE(object)->tp_name, "selectolax.lexbor.LexborNode")) {
        PyErr_SetString(PyExc_TypeError, "a selectolax.lexbor.LexborNode is needed");
        return NULL;
    }
    return ((LexborNodeObject *)object)->node;
}

PyDoc_STRVAR(walk_doc, "walk(body) -> [Block]: the blocks with text under a LexborNode, in document order.");

static PyObject *walk(PyObject *module, PyObject *body)
{
    lxb_node *root = node_of(body);
    if (root == NULL)
        return NULL;
    Walk w = {0};
    w.blocks = PyList_New(0);
    if (w.blocks == NULL)
        return NULL;
    /* Children of root, then of each container entered, in document order; at a container's end
     * (and the root's), its paragraph of inline text closes. */
    lxb_node *node = root->first_child;
    lxb_node *container = root;
    int failed = 0;
    while (!failed) {
        if (node == NULL) {
            failed = flush(&w);
            if (container == root)
                break;
            node = container->next;
            container = container->parent;
            continue;
        }
        int enter = 0;
        failed = visit(&w, node, &enter);
        if (enter) {
            container = node;
            node = node->first_child;
        } else {
            node = node->next;
        }
    }
    PyMem_Free(w.inline_text.data);
    PyMem_Free(w.raw.data);
    PyMem_Free(w.text.data);
    if (failed) {
        Py_DECREF(w.blocks);
        return NULL;
    }
    return w.blocks;
}

PyDoc_STRVAR(tag_id_doc, "tag_id(node) -> int: lexbor's id of the element's tag.");

static PyObject *tag_id(PyObject *module, PyObject *node)
{
    lxb_node *n = node_of(node);
    return n == NULL ? NULL : PyLong_FromSize_t(n->local_name);
}

PyDoc_STRVAR(configure_doc, "configure(node_type, kinds, block_type, type_names): LexborNode's type; each tag "
                            "id's kind (a dict of id to kind byte; see _htmlwalk.c); the Block class and the "
                            "type of each kind of block walk() makes.");

static PyObject *configure(PyObject *module, PyObject *args)
{
    PyTypeObject *type, *block;
    PyObject *table, *names;
    if (!PyArg_ParseTuple(args, "O!O!O!O!", &PyType_Type, &type, &PyDict_Type, &table, &PyType_Type, &block,
                          &PyTuple_Type, &names))
        return NULL;
    if (type->tp_basicsize < (Py_ssize_t)sizeof(LexborNodeObject) || strcmp(type->tp_name, "selectolax.lexbor.LexborNode")) {
        PyErr_SetString(PyExc_TypeError, "not the LexborNode this walk reads");
        return NULL;
    }
    if (PyTuple_GET_SIZE(names) != 5) {
        PyErr_SetString(PyExc_ValueError, "five block types are needed");
        return NULL;
    }
    Py_ssize_t offsets[FIELDS];
    for (int i = 0; i < FIELDS; i++) { /* each field a slot holding an object */
        PyObject *slot = PyObject_GetAttrString((PyObject *)block, field_names[i]);
        if (slot == NULL)
            return NULL;
        int is_slot = Py_IS_TYPE(slot, &PyMemberDescr_Type) && ((PyMemberDescrObject *)slot)->d_member->type == Py_T_OBJECT_EX;
        offsets[i] = is_slot ? ((PyMemberDescrObject *)slot)->d_member->offset : 0;
        Py_DECREF(slot);
        if (!is_slot) {
            PyErr_Format(PyExc_TypeError, "%s.%s is not a slot", block->tp_name, field_names[i]);
            return NULL;
        }
    }
    unsigned char fresh[TAGS] = {0};
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(table, &pos, &key, &value)) {
        size_t id = PyLong_AsSize_t(key);
        long kind = PyLong_AsLong(value);
        if (PyErr_Occurred())
            return NULL;
        if (id >= TAGS || kind < 0 || kind > 0xff || (kind & KIND_MASK) >= K_KINDS) {
            PyErr_Format(PyExc_ValueError, "tag id %zu or kind %ld out of range", id, kind);
            return NULL;
        }
        fresh[id] = (unsigned char)kind;
    }
    memcpy(kinds, fresh, sizeof kinds);
    memcpy(field_offsets, offsets, sizeof offsets);
    for (int i = 0; i < 5; i++)
        Py_XSETREF(type_names[i], Py_NewRef(PyTuple_GET_ITEM(names, i)));
    Py_XSETREF(block_type, (PyTypeObject *)Py_NewRef(block));
    if (page_one == NULL && (page_one = PyLong_FromLong(1)) == NULL)
        return NULL;
    node_size = type->tp_basicsize;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"walk", walk, METH_O, walk_doc},
    {"tag_id", tag_id, METH_O, tag_id_doc},
    {"configure", configure, METH_VARARGS, configure_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_htmlwalk", NULL, -1, methods};

PyMODINIT_FUNC PyInit__htmlwalk(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddIntConstant(m, "INLINE", K_INLINE) || PyModule_AddIntConstant(m, "SKIPPED", K_SKIPPED) ||
        PyModule_AddIntConstant(m, "BREAK", K_BREAK) || PyModule_AddIntConstant(m, "PARAGRAPH", K_PARAGRAPH) ||
        PyModule_AddIntConstant(m, "LIST_ITEM", K_LIST_ITEM) || PyModule_AddIntConstant(m, "HEADING", K_HEADING) ||
        PyModule_AddIntConstant(m, "CONTAINER", K_CONTAINER) || PyModule_AddIntConstant(m, "TABLE", K_TABLE) ||
        PyModule_AddIntConstant(m, "PRE", K_PRE) || PyModule_AddIntConstant(m, "ROW", K_ROW) ||
        PyModule_AddIntConstant(m, "CELL", K_CELL) || PyModule_AddIntConstant(m, "BLOCK", BLOCK_FLAG) ||
        PyModule_AddIntConstant(m, "LEVEL_SHIFT", LEVEL_SHIFT)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
