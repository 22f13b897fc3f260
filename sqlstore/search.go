package sqlstore

import (
	"strings"
	"unicode"
)

// ftsQuery turns what someone typed into a search box into an FTS5 MATCH
// expression that cannot be a syntax error, whatever they typed.
//
// FTS5 gives meaning to quotes, parentheses, '*', '^', '-', ':', '+' and the
// words AND, OR, NOT and NEAR. Inside a double-quoted string none of that
// applies (a quote is written twice), so every term, split at white space
// and control characters, becomes a quoted string matched as a prefix, so
// that results show up while a word is still being typed. Terms are ANDed
// by juxtaposition. A term with no letter or digit is dropped: the tokenizer
// would reduce it to an empty phrase, which matches nothing and would make
// the whole query match nothing. An empty result means that nothing in q can
// match.
func ftsQuery(q string) string {
	var b strings.Builder
	for _, term := range strings.FieldsFunc(q, isSeparator) {
		if !strings.ContainsFunc(term, isWordRune) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(term, `"`, `""`))
		b.WriteString(`"*`)
	}
	return b.String()
}

// isSeparator splits terms at white space and at control characters: FTS5
// would take a NUL for the end of the query.
func isSeparator(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }
